"""IEMOCAP (``IEMOCAP_full_release/``) as a manifest: one row per utterance of an EmoEvaluation file.

What is read (docs/corpora.md, "IEMOCAP and MELD"): ``Session{1..5}/dialog/EmoEvaluation/<dialog>.txt``
(the consensus code, V/A/D on 1–5 and the evaluators' ``C-E*`` lines; the subfolders ``Categorical/``,
``Attribute/`` and ``Self-evaluation/`` and the actors' own ``C-F*``/``C-M*`` ratings are not used),
``dialog/transcriptions/<dialog>.txt``, ``sentences/wav/<dialog>/<utt>.wav`` and
``sentences/ForcedAlignment/<dialog>/<utt>.phseg`` (+ ``.wdseg``), kept as the row's ``alignment``.

* The speaker is ``Ses0{s}`` + the letter of the utterance suffix: ``Ses01F_impro01_M000`` is ``Ses01M``,
  male. The dialog prefix names who wore the markers, not who speaks.
* ``fold`` is the session (leave-one-session-out, 5 folds); ``split`` is ``train`` for sessions 1–4 and
  ``test`` for session 5 (the convention of dialogue papers). ``dialogue`` is the dialog name, ``turn`` the
  utterance's place in the dialog by start time (from 0).
* Labels: ``exc`` is *happy* under ``iemocap4`` (the 4-class convention) and *excited* under ``iemocap5``
  and ``iemocap6``; ``fru`` is a label only in ``iemocap6``; ``sur``, ``fea``, ``dis``, ``oth`` and ``xxx``
  (no majority among the evaluators) are in no IEMOCAP preset. Codes outside the chosen set are skipped and
  counted (``keep_unlabeled`` keeps them with ``label`` None); ``raw_label`` is always the code.
* ``text`` is the transcript without the id/time prefix and without the bracketed non-speech markers
  (``[LAUGHTER]``, ``[BREATHING]``, ``[GARBAGE]``), which are not words an aligner can say; the line as
  written is kept in ``text_raw`` where it differs.
"""

from __future__ import annotations

import re
from pathlib import Path

from vowelprompt.corpora.base import Prepared, media_problem, read_text, row
from vowelprompt.errors import ConfigError
from vowelprompt.labels import get_label_set

DATASET = "iemocap"
DEFAULT_LABELS = "iemocap4"
#: IEMOCAP's category codes → the word a label set resolves (None: no emotion a preset can name).
CODE_WORDS: dict[str, str | None] = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "excited",
    "sad": "sad",
    "ang": "angry",
    "fru": "frustrated",
    "sur": "surprised",
    "fea": "fearful",
    "dis": "disgusted",
    "oth": None,
    "xxx": None,
}
#: The evaluators' category words (``C-E2:  Neutral;``) → codes.
RATER_CODES: dict[str, str] = {
    "neutral state": "neu",
    "neutral": "neu",
    "happiness": "hap",
    "excited": "exc",
    "sadness": "sad",
    "anger": "ang",
    "frustration": "fru",
    "surprise": "sur",
    "fear": "fea",
    "disgust": "dis",
    "other": "oth",
}
UTTERANCE = re.compile(r"^Ses0(\d)([FM])_(.+)_([FM])(\d{3})$")
_EVAL_LINE = re.compile(r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\S+)\s+\[\s*([^\]]*)\]")
_RATER_LINE = re.compile(r"^C-(E\d+):\s*([^\t(]*)")
_TRANSCRIPT_LINE = re.compile(r"^(\S+)\s+\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]:\s?(.*)$")
_MARKER = re.compile(r"\[[A-Za-z_ ]+\]")


def find_root(root: str | Path) -> tuple[Path, list[Path]]:
    """The release folder and its session folders; a ConfigError saying what was expected otherwise."""
    root = Path(root)
    if (root / "IEMOCAP_full_release").is_dir():
        root = root / "IEMOCAP_full_release"
    sessions = sorted(p for p in root.glob("Session[1-5]") if (p / "dialog" / "EmoEvaluation").is_dir())
    if not sessions:
        raise ConfigError(
            f"{root} is not IEMOCAP: expected Session1 … Session5 folders with dialog/EmoEvaluation/ in "
            "them (the IEMOCAP_full_release folder)"
        )
    return root, sessions


def rater_votes(text: str) -> dict[str, int]:
    """Votes per code from one evaluator's categories (``Frustration; Anger;`` → fru 1, ang 1)."""
    votes: dict[str, int] = {}
    for part in text.split(";"):
        word = part.strip().lower()
        if not word:
            continue
        code = "oth" if word.startswith("other") else RATER_CODES.get(word, word)
        votes[code] = 1
    return votes


def read_evaluation(path: Path) -> dict[str, dict]:
    """Utterance id → {start_s, end_s, code, vad, votes} from one EmoEvaluation file."""
    entries: dict[str, dict] = {}
    current: dict | None = None
    for line in read_text(path).splitlines():
        if match := _EVAL_LINE.match(line):
            start, end, utt, code, vad = match.groups()
            values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", vad)]
            current = entries[utt] = {
                "start_s": float(start),
                "end_s": float(end),
                "code": code.strip().lower(),
                "vad": dict(zip(("valence", "arousal", "dominance"), values)) if len(values) == 3 else None,
                "votes": {},
            }
        elif current is not None and (match := _RATER_LINE.match(line)):
            for code in rater_votes(match.group(2)):
                current["votes"][code] = current["votes"].get(code, 0) + 1
    return entries


def read_transcript(path: Path) -> dict[str, tuple[float, str]]:
    """Utterance id → (start time, transcript line as written) for one transcription file."""
    lines = {}
    for line in read_text(path).splitlines():
        if match := _TRANSCRIPT_LINE.match(line.strip()):
            utt, start, _end, text = match.groups()
            lines[utt] = (float(start), text.strip())
    return lines


def clean_text(text: str) -> str:
    """The transcript without bracketed non-speech markers (``[LAUGHTER]``), spaces collapsed."""
    return " ".join(_MARKER.sub(" ", text).split())


def code_label(code: str, label_set) -> str | None:
    word = CODE_WORDS.get(code)
    return label_set.normalize(word) if word else None


def prepare(root: str | Path, labels: str | None = None, keep_unlabeled: bool = False) -> Prepared:
    """Every IEMOCAP utterance under ``root`` as a manifest row (module docstring)."""
    root, sessions = find_root(root)
    label_set = get_label_set(labels or DEFAULT_LABELS)
    out = Prepared(rows=[])
    for session in sessions:
        _session(session, label_set, keep_unlabeled, out)
    return out


def _session(session: Path, label_set, keep_unlabeled: bool, out: Prepared) -> None:
    evaluation: dict[str, dict] = {}
    for path in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
        if not path.name.startswith("._"):  # macOS resource forks unpacked beside the files
            evaluation.update(read_evaluation(path))
    transcripts: dict[str, tuple[float, str]] = {}
    for path in sorted((session / "dialog" / "transcriptions").glob("*.txt")):
        if not path.name.startswith("._"):
            transcripts.update(read_transcript(path))
    wavs = {p.stem: p for p in (session / "sentences" / "wav").glob("*/*.wav") if not p.name.startswith("._")}
    for utt in sorted(set(evaluation) | set(wavs) | set(transcripts)):
        if not UTTERANCE.match(utt):
            xx = re.search(r"_[FM]XX\d*$", utt) and utt in transcripts
            out.skip(
                "transcript line of no utterance (an XX line: no audio, no label)"
                if xx
                else "an id that is not an IEMOCAP utterance name",
                utt,
            )
    by_dialog: dict[str, list[str]] = {}
    for utt in set(evaluation) | set(wavs) | set(transcripts):
        if UTTERANCE.match(utt):
            by_dialog.setdefault(utt.rsplit("_", 1)[0], []).append(utt)

    def start_of(utt: str) -> tuple[float, str]:
        if utt in transcripts:
            return transcripts[utt][0], utt
        return (evaluation[utt]["start_s"] if utt in evaluation else float("inf")), utt

    for dialog in sorted(by_dialog):
        for turn, utt in enumerate(sorted(by_dialog[dialog], key=start_of)):
            entry = evaluation.get(utt)
            if entry is None and utt not in wavs:
                out.skip("transcript line without audio or an EmoEvaluation row", utt)
                continue
            label = code_label(entry["code"], label_set) if entry else None
            if label is None and not keep_unlabeled:
                reason = (
                    f"code {entry['code']!r} is outside {label_set.name}"
                    if entry
                    else "audio without an EmoEvaluation row"
                )
                out.skip(reason, utt)
                continue
            wav = wavs.get(utt, session / "sentences" / "wav" / dialog / f"{utt}.wav")
            out.rows.append(_row(session, dialog, utt, turn, entry, transcripts, wav, label, label_set))


def _row(session, dialog, utt, turn, entry, transcripts, wav, label, label_set) -> dict:
    s, _, _, letter, _ = UTTERANCE.match(utt).groups()
    raw_text = transcripts.get(utt, (None, ""))[1]
    text = clean_text(raw_text)
    phseg = session / "sentences" / "ForcedAlignment" / dialog / f"{utt}.phseg"
    entry = entry or {}
    return row(
        DATASET,
        utt,
        wav,
        text=text,
        lang="en",
        speaker=f"Ses0{s}{letter}",
        gender="female" if letter == "F" else "male",
        label=label,
        raw_label=entry.get("code"),
        label_set=label_set.name,
        split="test" if s == "5" else "train",
        fold=int(s),
        dialogue=dialog,
        turn=turn,
        label_votes=entry.get("votes") or None,
        vad=entry.get("vad"),
        alignment=phseg if phseg.is_file() and phseg.with_suffix(".wdseg").is_file() else None,
        error=media_problem(wav),
        text_raw=raw_text if raw_text != text else None,
        start_s=entry.get("start_s"),
        end_s=entry.get("end_s"),
    )
