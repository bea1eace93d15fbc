"""Policy knowledge: ingest (load, clean, chunk), embed, index, hybrid search, answers, evaluation."""
