"""The vocabulary a CTranslate2 conversion gets when the tokenizer's own leaves tokens out (transformers 5's
M2M100/NLLB tokenizers): one entry per embedding row, by id."""

import pytest

from xstilts.translation.convert import vocabulary_by_id


class Tokenizer:
    """Ids 0-3 special, 4-5 pieces, 6-7 language tokens; rows 8-9 of the embedding have no token."""

    unk_token, unk_token_id = "<unk>", 3
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "b", "__de__", "__en__"]

    def convert_ids_to_tokens(self, ids):
        return [self.tokens[i] if i < len(self.tokens) else None if i == 8 else self.unk_token for i in ids]


def test_every_embedding_row_gets_its_token_or_a_distinct_filler():
    assert vocabulary_by_id(Tokenizer(), 10) == ["<s>", "<pad>", "</s>", "<unk>", "▁a", "b", "__de__", "__en__",
                                                 "madeupword0000", "madeupword0001"]
    assert vocabulary_by_id(Tokenizer(), 4) == ["<s>", "<pad>", "</s>", "<unk>"]


def test_two_ids_with_one_token_are_refused():
    tokenizer = Tokenizer()
    tokenizer.tokens = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁a"]
    with pytest.raises(ValueError, match="several ids to the same token"):
        vocabulary_by_id(tokenizer, 6)
