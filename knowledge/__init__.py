"""The staff knowledge base: the service that turns uploads into drafts and publishes, replaces, retires,
restores and re-indexes documents (`knowledge.admin`), the before/after quality check (`knowledge.quality`);
beside them, the data the bot answers from (policies/, places.yaml, glossary.yaml, …).

It sits above `retrieval/` (ingest, index, search) and `db/` (the documents registry and change log), which
know nothing of each other."""
