"""Machine translation of English intermediate-task training data into other languages.

  languages  which languages each MT model family has and how it spells them (torch-free; the config check)
  project    mark-then-translate for QA answer spans, with a fuzzy-match fallback (pure)
  records    which fields of each task family are translated and how records are put back together (pure)
  engine     batched, length-sorted, resumable translation with a seq2seq model, on CTranslate2 or transformers
  convert    the conversion of a transformers MT model to CTranslate2
  shard      the jobs: one shard of a task into one language, and the quality report that gates training

Importing this package is cheap (no torch): the engine loads torch and transformers when a model is loaded.
"""
