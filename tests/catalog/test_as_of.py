"""as_of everywhere: audit, count_request, count_batch, video_estimate and reconcile read the prices and lifecycles
of the day asked for (docs/lifecycle.md); reconcile reads each logged request on its own day."""

import datetime as dt
import json
from pathlib import Path

import pytest

import costcalc.truth.reconcile as reconciling
from costcalc.pricing.request import count_request
from costcalc.runs.audit import audit
from costcalc.runs.batchfile import count_batch
from costcalc.truth.exchanges import logged_day

ROOT = Path(__file__).resolve().parents[2]
BEFORE, AFTER = dt.date(2026, 11, 20), dt.date(2026, 12, 6)  # gemini-4-argon: 2.00 then 4.00 from 2026-12-01


def payload(model="gemini-4-argon"):
    return {"model": model, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}


def test_audit_rows_take_as_of_and_carry_the_models_status():
    rows = {
        day: list(audit([ROOT / "samples" / "photo.jpg"], models=["gpt-4o", "gpt-5"], as_of=day))
        for day in (AFTER, dt.date(2027, 1, 20))
    }
    first = {row.model: row for row in rows[AFTER]}
    assert (first["gpt-4o"].model_status, first["gpt-4o"].shutdown) == ("deprecated", "2027-01-14")
    assert (first["gpt-5"].model_status, first["gpt-5"].shutdown) == ("deprecated", "2026-12-11")
    later = {row.model: row for row in rows[dt.date(2027, 1, 20)]}
    assert later["gpt-4o"].model_status == "retired" and later["gpt-4o"].status == "priced"
    assert first["gpt-4o"].as_dict()["shutdown"] == "2027-01-14"


def test_count_request_reads_the_day_asked_for():
    text_price = {day: count_request(payload(), as_of=day) for day in (BEFORE, AFTER)}
    assert text_price[BEFORE].as_of == "2026-11-20" and text_price[AFTER].as_of == "2026-12-06"
    assert text_price[AFTER].status == "active" and text_price[AFTER].as_dict()["shutdown"] is None
    retired = count_request(payload("gpt-5"), as_of=dt.date(2026, 12, 20))
    assert (retired.status, retired.shutdown) == ("retired", "2026-12-11")


def test_count_batch_takes_as_of():
    lines = [{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": payload("gpt-5")}]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    early, late = (count_batch(data, as_of=day) for day in (AFTER, dt.date(2026, 12, 20)))
    assert early.rows[0].estimate.status == "deprecated" and late.rows[0].estimate.status == "retired"


def test_video_estimate_takes_as_of():
    pytest.importorskip("av")
    from costcalc.runs.video import video_estimate

    clip = ROOT / "examples" / "clip.mp4"
    before, after = (
        video_estimate(clip, model="gemini-3.6-flash", frames=2, as_of=day)
        for day in (dt.date(2026, 12, 31), dt.date(2027, 1, 1))
    )
    assert before.tokens == after.tokens and before.usd is not None
    assert after.usd == before.usd * 2  # 0.75 through 2026-12-31, 1.50 from 2027-01-01


@pytest.mark.parametrize(
    "line, response, day",
    [
        ({"date": "2026-11-20"}, {}, BEFORE),
        ({"timestamp": "2026-11-20T23:30:00-02:00"}, {}, dt.date(2026, 11, 21)),  # in UTC
        ({"timestamp": 1763596800}, {}, dt.date(2025, 11, 20)),
        ({}, {"created": 1795651200}, dt.date(2026, 11, 26)),
        ({}, {"created": "soon"}, None),
        ({"date": True}, {}, None),
    ],
)
def test_logged_day(line, response, day):
    assert logged_day(line, response) == day


def test_reconcile_reads_each_request_on_its_own_day(tmp_path, monkeypatch):
    seen = []
    real = reconciling._request.count_request

    def spy(request, **options):
        seen.append(options["tables"].as_of)
        return real(request, **options)

    monkeypatch.setattr(reconciling._request, "count_request", spy)
    answer = {"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}
    lines = [
        {"request": payload("gpt-4o"), "response": {**answer, "created": 1795651200}},
        {"request": payload("gpt-4o"), "response": answer, "date": "2026-10-01"},
        {"request": payload("gpt-4o"), "response": answer},
    ]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    reconciling.reconcile(str(log), as_of=dt.date(2026, 9, 1))
    assert seen == [dt.date(2026, 11, 26), dt.date(2026, 10, 1), dt.date(2026, 9, 1)]
