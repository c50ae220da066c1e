"""MT language codes per model family, and the config-time errors for languages a model lacks or that are
written in the model's own spelling."""

import subprocess
import sys

import pytest

from xstilts.translation.languages import (
    M2M100_CODES,
    NLLB_CODES,
    NLLB_FROM_ISO,
    LanguageError,
    mt_language_code,
    mt_language_errors,
)

XTREME = ("af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl "
          "tr ur vi yo zh").split()
NLLB = {"family": "nllb", "hf_id": "facebook/nllb-200-distilled-600M"}


def test_codes_per_family():
    assert mt_language_code("nllb", "de") == "deu_Latn"
    assert mt_language_code("nllb", "zh") == "zho_Hans"
    assert mt_language_code("nllb", "sw") == "swh_Latn"
    assert mt_language_code("nllb", "ar") == "arb_Arab"
    assert mt_language_code("nllb", "ast") == "ast_Latn"  # ISO 639-3 when there is no 639-1 code
    assert mt_language_code("m2m100", "de") == "de"
    assert mt_language_code("madlad", "de") == "<2de>"
    assert mt_language_code("madlad", "tl") == "<2fil>"
    assert mt_language_code("marian", "de") == "de"
    assert mt_language_code("m2m100", "xx", {"xx": "yy"}) == "yy"


def test_unknown_family_and_language():
    with pytest.raises(LanguageError, match="unknown MT model family 'opus'"):
        mt_language_code("opus", "de")
    with pytest.raises(LanguageError, match="m2m100 has no language 'te'"):
        mt_language_code("m2m100", "te")


def test_every_xtreme_language_in_nllb_and_madlad():
    for family in ("nllb", "madlad"):
        assert mt_language_errors("m", {"family": family, "hf_id": "x"}, XTREME) == []


def test_nllb_table_points_at_real_codes():
    assert set(NLLB_FROM_ISO.values()) <= NLLB_CODES
    assert len(NLLB_CODES) == 202


def test_copied_inventories_match_the_pinned_transformers():
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES as M2M
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES as FLORES

    assert NLLB_CODES == set(FLORES)
    assert M2M100_CODES == set(M2M["m2m100"])


def test_missing_languages_name_the_language_and_the_model():
    errors = mt_language_errors("nllb-600m", NLLB, ["qu", "de", "xx"])
    assert errors == ["translation model nllb-600m (facebook/nllb-200-distilled-600M) has no language 'qu'",
                      "translation model nllb-600m (facebook/nllb-200-distilled-600M) has no language 'xx'"]
    m2m = mt_language_errors("m2m", {"family": "m2m100", "hf_id": "facebook/m2m100_1.2B"}, XTREME)
    assert m2m == ["translation model m2m (facebook/m2m100_1.2B) has no language 'eu'",
                   "translation model m2m (facebook/m2m100_1.2B) has no language 'te'"]


def test_the_models_own_spelling_is_refused_with_the_iso_code():
    assert mt_language_errors("nllb-600m", NLLB, ["deu_Latn", "deu"]) == [
        "language 'deu_Latn' is the MT model's own spelling; write the ISO code 'de' (nllb-600m spells it deu_Latn)",
        "language 'deu' is the MT model's own spelling; write the ISO code 'de' (nllb-600m spells it deu_Latn)"]
    assert mt_language_errors("m2m", {"family": "m2m100", "path": "p"}, ["__ru__"]) == [
        "language '__ru__' is the MT model's own spelling; write the ISO code 'ru' (m2m spells it __ru__)"]
    assert mt_language_errors("madlad", {"family": "madlad", "hf_id": "g"}, ["<2de>", "fil"]) == [
        "language '<2de>' is the MT model's own spelling; write the ISO code 'de' (madlad spells it <2de>)",
        "language 'fil' is the MT model's own spelling; write the ISO code 'tl' (madlad spells it <2fil>)"]


def test_a_language_in_several_scripts_asks_for_a_choice():
    (error,) = mt_language_errors("nllb-600m", NLLB, ["ace"])
    assert "writes 'ace' in several scripts (ace_Arab, ace_Latn)" in error
    assert mt_language_errors("nllb-600m", {**NLLB, "languages": {"ace": "ace_Latn"}}, ["ace"]) == []


def test_marian_needs_both_directions():
    cfg = {"family": "marian", "models": {"de": "Helsinki-NLP/opus-mt-en-de", "ru": "r"},
           "back_models": {"de": "Helsinki-NLP/opus-mt-de-en"}}
    assert mt_language_errors("opus", cfg, ["de"]) == []
    (error,) = mt_language_errors("opus", cfg, ["ru"])
    assert error.startswith("translation model opus (marian) has no language 'ru' (marian: no entry for 'ru' under "
                            "back_models")


def test_unknown_family_in_a_model_entry():
    assert mt_language_errors("x", {"family": "opus", "hf_id": "a/b"}, ["de"]) == [
        "translation model x (a/b): family 'opus' is not one of nllb, m2m100, madlad, marian"]


def test_languages_module_is_cheap():
    """The config check imports it when Snakemake parses the workflow: no torch, no transformers."""
    code = ("import sys, xstilts.translation.languages; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
