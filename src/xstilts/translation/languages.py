"""Which languages an MT model translates into, and how it spells them. Torch-free and cheap: the config check
calls `mt_language_errors` when Snakemake parses the workflow, before any job.

Languages are written as XTREME writes them (ISO 639-1 where there is one: de, zh, sw; ISO 639-3 otherwise).
Each model family spells them its own way:
  nllb     FLORES-200 codes, the forced first target token:     de -> deu_Latn, zh -> zho_Hans, sw -> swh_Latn
  m2m100   ISO codes, as __de__ tokens (the forced first token): de -> de
  madlad   a "<2xx>" prefix on the source text (T5):              de -> <2de>, tl -> <2fil>
  marian   one model per direction, named in the config entry:    models: {de: ...}, back_models: {de: ...}
A model entry may add or override spellings with `languages: {iso: spelling}` (a local model with another
inventory); for marian, a language is supported when `models` and `back_models` (the round trip) both have it.
"""

from __future__ import annotations

FAMILIES = ("nllb", "m2m100", "madlad", "marian")

# NLLB-200's 202 FLORES-200 codes: transformers 5.23, models/nllb/tokenization_nllb.py FAIRSEQ_LANGUAGE_CODES
# (copied: importing it costs about a second, as it imports transformers).
NLLB_CODES = frozenset("""
ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab arb_Arab ars_Arab ary_Arab
arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng
bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn
cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn
pes_Arab fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn
hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn
jpn_Jpan kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor knc_Arab knc_Latn kaz_Cyrl kbp_Latn kea_Latn
khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kon_Latn kor_Hang kmr_Latn lao_Laoo lvs_Latn lij_Latn lim_Latn lin_Latn
lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn lug_Latn luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn
mkd_Cyrl plt_Latn mlt_Latn mni_Beng khk_Cyrl mos_Latn mri_Latn zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva
nso_Latn nus_Latn nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru pap_Latn pol_Latn por_Latn prs_Arab pbt_Arab
quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng scn_Latn shn_Mymr sin_Sinh slk_Latn slv_Latn smo_Latn
sna_Latn snd_Arab som_Latn sot_Latn spa_Latn als_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn
tam_Taml tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi taq_Latn taq_Tfng tpi_Latn tsn_Latn tso_Latn tuk_Latn
tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn
xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zul_Latn
""".split())

# ISO 639-1 -> FLORES-200 where the FLORES code is not simply "<ISO 639-3>_<script>" of a unique entry. NLLB
# names individual languages where ISO 639-1 names macrolanguages (ar -> arb Modern Standard Arabic, fa -> pes
# Iranian Persian, ms -> zsm Standard Malay, sw -> swh Swahili, zh -> zho_Hans Simplified, as XTREME's zh data).
# Not Quechua (qu): NLLB has only Ayacucho Quechua (write quy).
NLLB_FROM_ISO = {
    "af": "afr_Latn", "ak": "aka_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng", "ay": "ayr_Latn",
    "az": "azj_Latn", "ba": "bak_Cyrl", "be": "bel_Cyrl", "bg": "bul_Cyrl", "bm": "bam_Latn", "bn": "ben_Beng",
    "bo": "bod_Tibt", "bs": "bos_Latn", "ca": "cat_Latn", "cs": "ces_Latn", "cy": "cym_Latn", "da": "dan_Latn",
    "de": "deu_Latn", "dz": "dzo_Tibt", "ee": "ewe_Latn", "el": "ell_Grek", "en": "eng_Latn", "eo": "epo_Latn",
    "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "ff": "fuv_Latn", "fi": "fin_Latn",
    "fj": "fij_Latn", "fo": "fao_Latn", "fr": "fra_Latn", "ga": "gle_Latn", "gd": "gla_Latn", "gl": "glg_Latn",
    "gn": "grn_Latn", "gu": "guj_Gujr", "ha": "hau_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn",
    "ht": "hat_Latn", "hu": "hun_Latn", "hy": "hye_Armn", "id": "ind_Latn", "ig": "ibo_Latn", "is": "isl_Latn",
    "it": "ita_Latn", "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kg": "kon_Latn", "ki": "kik_Latn",
    "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda", "ko": "kor_Hang", "ky": "kir_Cyrl", "lb": "ltz_Latn",
    "lg": "lug_Latn", "li": "lim_Latn", "ln": "lin_Latn", "lo": "lao_Laoo", "lt": "lit_Latn", "lv": "lvs_Latn",
    "mg": "plt_Latn", "mi": "mri_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl", "mr": "mar_Deva",
    "ms": "zsm_Latn", "mt": "mlt_Latn", "my": "mya_Mymr", "nb": "nob_Latn", "ne": "npi_Deva", "nl": "nld_Latn",
    "nn": "nno_Latn", "no": "nob_Latn", "ny": "nya_Latn", "oc": "oci_Latn", "om": "gaz_Latn", "or": "ory_Orya",
    "pa": "pan_Guru", "pl": "pol_Latn", "ps": "pbt_Arab", "pt": "por_Latn", "rn": "run_Latn",
    "ro": "ron_Latn", "ru": "rus_Cyrl", "rw": "kin_Latn", "sa": "san_Deva", "sc": "srd_Latn", "sd": "snd_Arab",
    "sg": "sag_Latn", "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn", "sm": "smo_Latn", "sn": "sna_Latn",
    "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "ss": "ssw_Latn", "st": "sot_Latn", "su": "sun_Latn",
    "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu", "tg": "tgk_Cyrl", "th": "tha_Thai",
    "ti": "tir_Ethi", "tk": "tuk_Latn", "tl": "tgl_Latn", "tn": "tsn_Latn", "tr": "tur_Latn", "ts": "tso_Latn",
    "tt": "tat_Cyrl", "tw": "twi_Latn", "ug": "uig_Arab", "uk": "ukr_Cyrl", "ur": "urd_Arab", "uz": "uzn_Latn",
    "vi": "vie_Latn", "wo": "wol_Latn", "xh": "xho_Latn", "yi": "ydd_Hebr", "yo": "yor_Latn", "zh": "zho_Hans",
    "zu": "zul_Latn",
}

# M2M100's 100 languages: transformers 5.23, models/m2m_100/tokenization_m2m_100.py FAIRSEQ_LANGUAGE_CODES["m2m100"]
M2M100_CODES = frozenset("""
af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he hi hr ht hu hy id
ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl no ns oc or pa pl ps pt ro ru sd si sk
sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo zh zu
""".split())

# MADLAD-400 MT target languages, limited to those we checked against the <2xx> tokens of the released
# tokenizer (google/madlad400-*-mt; the paper, arXiv 2309.04662, lists 419 languages, Appendix A). ISO 639-1
# where MADLAD uses it, otherwise its 3-letter code. Tagalog is Filipino there (<2fil>). Add others per model
# entry with `languages: {iso: <2xx>}` once checked against the model's tokenizer (the engine checks at load).
MADLAD_CODES = frozenset("""
af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cs cv cy da de dv dz ee el en eo es et eu fa ff fi
fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy id ig io is it iu ja jv ka kg kj kk kl km kn ko kr ks ku kv kw ky
la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my ne nl nn no nr nv ny oc oj om or os pa pl ps pt qu rm rn ro ru
rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tn to tr ts tt ug uk ur uz ve vi wa wo xh
yi yo zh zu ace awa ban bho bug ceb ckb crh fil fur gom gsw haw hmn hne ilo lij lmo mag mai min nso scn szl vec war
""".split())
MADLAD_FROM_ISO = {"tl": "fil"}  # XTREME's code -> MADLAD's


class LanguageError(ValueError):
    """A language an MT model cannot translate into, or one written in the model's own spelling."""


def _nllb_code(lang: str) -> str | None:
    if lang in NLLB_FROM_ISO:
        return NLLB_FROM_ISO[lang]
    matches = [c for c in NLLB_CODES if c.split("_")[0] == lang]
    if len(matches) == 1 and lang not in {c.split("_")[0] for c in NLLB_FROM_ISO.values()}:
        return matches[0]
    return None


def _own_spellings(family: str) -> dict[str, str]:
    """The model's own spellings a config might copy from a model card -> our ISO code."""
    own = {}
    if family == "nllb":
        for iso, code in NLLB_FROM_ISO.items():
            if iso != "no":  # nob_Latn is "nb"
                own[code] = iso
                own.setdefault(code.split("_")[0], iso)  # deu -> de, arb -> ar
    elif family == "m2m100":
        own = {f"__{c}__": c for c in M2M100_CODES}
    elif family == "madlad":
        theirs = {v: k for k, v in MADLAD_FROM_ISO.items()}
        own = {f"<2{c}>": theirs.get(c, c) for c in MADLAD_CODES} | theirs
    return {spelling: iso for spelling, iso in own.items() if spelling != iso}


def mt_language_code(family: str, lang: str, extra: dict[str, str] | None = None) -> str:
    """`lang` (XTREME's ISO code) as the model family spells it: the forced target token for nllb
    ("deu_Latn") and m2m100 ("de"; the token is "__de__"), the source prefix for madlad ("<2de>"), the code
    itself for marian (its models are per direction). `extra` is a model entry's `languages` mapping."""
    if family not in FAMILIES:
        raise LanguageError(f"unknown MT model family {family!r}; known: {', '.join(FAMILIES)}")
    if extra and lang in extra:
        return extra[lang]
    if family == "nllb":
        code = _nllb_code(lang)
    elif family == "m2m100":
        code = lang if lang in M2M100_CODES else None
    elif family == "madlad":
        code = f"<2{MADLAD_FROM_ISO.get(lang, lang)}>" if lang in MADLAD_CODES | set(MADLAD_FROM_ISO) else None
    else:
        code = lang
    if code is None:
        scripts = sorted(c for c in NLLB_CODES if c.split("_")[0] == lang) if family == "nllb" else []
        if len(scripts) > 1:
            raise LanguageError(f"{family} writes {lang!r} in several scripts ({', '.join(scripts)}); choose one "
                                f"with languages: {{{lang}: {scripts[-1]}}} in the model entry")
        raise LanguageError(f"{family} has no language {lang!r}")
    return code


def spelled(family: str, code: str) -> str:
    """A code from `mt_language_code` as it appears in the model's vocabulary (M2M100: __de__)."""
    return f"__{code}__" if family == "m2m100" else code


def model_label(model_name: str, model_cfg: dict) -> str:
    """How messages name a model: its config name and where it comes from."""
    source = model_cfg.get("hf_id") or model_cfg.get("path") or model_cfg.get("family", "?")
    return f"{model_name} ({source})"


def mt_language_errors(model_name: str, model_cfg: dict, langs: list[str]) -> list[str]:
    """Every problem with translating English into `langs` with this model entry, as messages naming the
    language and the model; empty when all is well."""
    family = model_cfg.get("family")
    label = model_label(model_name, model_cfg)
    if family not in FAMILIES:
        return [f"translation model {label}: family {family!r} is not one of {', '.join(FAMILIES)}"]
    extra = model_cfg.get("languages") or {}
    errors = []
    if family == "marian":
        for lang in langs:
            missing = [key for key in ("models", "back_models") if lang not in (model_cfg.get(key) or {})]
            if missing:
                errors.append(f"translation model {label} has no language {lang!r} (marian: no entry for "
                              f"{lang!r} under {' and '.join(missing)}; models translate en->{lang}, back_models "
                              f"{lang}->en for the round-trip check)")
        return errors
    if "en" not in extra:
        try:
            mt_language_code(family, "en", extra)
        except LanguageError:
            errors.append(f"translation model {label} has no language 'en' (the source)")
    own = _own_spellings(family)
    for lang in langs:
        if lang in own and lang not in extra:
            theirs = spelled(family, mt_language_code(family, own[lang]))
            errors.append(f"language {lang!r} is the MT model's own spelling; write the ISO code {own[lang]!r} "
                          f"({model_name} spells it {theirs})")
            continue
        try:
            mt_language_code(family, lang, extra)
        except LanguageError as e:
            reason = str(e).removeprefix(f"{family} ")
            if reason.startswith("has no language"):
                errors.append(f"translation model {label} has no language {lang!r}")
            else:
                errors.append(f"translation model {label} {reason}")
    return errors
