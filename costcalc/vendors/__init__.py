"""One module per vendor API shape: a request payload → its image parts (with JSON paths), a usage → a bill."""
