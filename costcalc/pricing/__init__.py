"""Pricing: the billing rules, the model/price/limit tables, tokens and dollars."""
