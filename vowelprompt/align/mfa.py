"""Montreal Forced Aligner backend: runs the user's own ``mfa align`` and reads its TextGrids.

MFA is the aligner most phonetics work trusts, but it installs only through conda (its Kaldi bindings
are not on PyPI), so vowelprompt never installs it: it runs the ``mfa`` found on PATH the way its users
do, ``mfa align CORPUS DICTIONARY ACOUSTIC_MODEL OUTPUT``, on a corpus written to a temporary folder
(one folder per speaker, so MFA's speaker adaptation sees one voice per folder), and reads the TextGrids
back with :func:`vowelprompt.align.textgrid.read_alignment`. Starting MFA costs seconds to minutes, so the
pipeline hands it a whole batch through :meth:`MFAAligner.align_corpus`.

MFA does not fail a run for a file it cannot align (too short, only out-of-dictionary words, beam too
narrow): its TextGrid export skips a file with no aligned interval, and ``mfa align`` writes no list of
such files to the output folder (``unalignable_files.csv`` comes from ``mfa validate``, in MFA's own
working directory). So a missing TextGrid is the signal: every such file comes back here as an
:class:`~vowelprompt.errors.AlignmentError`, never dropped.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from vowelprompt.align import BatchItem, require_analysis_rate
from vowelprompt.align.textgrid import read_alignment
from vowelprompt.errors import AlignmentError, ConfigError
from vowelprompt.records import Word

#: Lines of MFA's error output quoted in an error message: enough for its exception, short enough to read.
_ERROR_LINES = 5

NOT_FOUND = (
    "Montreal Forced Aligner not found: install it with conda install -c conda-forge "
    "montreal-forced-aligner, or pass --alignment FILE.TextGrid"
)


class MFAAligner:
    """Align with the Montreal Forced Aligner found on PATH.

    ``dictionary`` and ``acoustic_model`` are MFA model names (downloaded beforehand with
    ``mfa model download dictionary english_us_arpa`` and ``mfa model download acoustic
    english_us_arpa``) or paths. ``beam`` overrides MFA's initial beam (its default is 10; MFA retries
    failures with ``retry_beam``, default 40). ``extra_args`` go to ``mfa align`` unchanged, e.g.
    ``("--temporary_directory", "/scratch/mfa")``; MFA keeps its working files in its own temporary
    directory (``~/Documents/MFA`` unless told otherwise). ``timeout_s`` bounds one ``mfa align`` run.

    Raises :class:`~vowelprompt.errors.AlignmentError` at construction when ``mfa_binary`` is not found,
    so a batch fails before any audio is written.

    >>> try:
    ...     MFAAligner(mfa_binary="no-such-mfa")
    ... except AlignmentError as exc:
    ...     print(str(exc).split(":")[0])
    Montreal Forced Aligner not found
    """

    name = "mfa"

    def __init__(
        self,
        dictionary: str = "english_us_arpa",
        acoustic_model: str = "english_us_arpa",
        mfa_binary: str = "mfa",
        extra_args: Sequence[str] = (),
        num_jobs: int = 1,
        beam: int | None = None,
        timeout_s: float | None = 3600.0,
    ):
        if num_jobs < 1:
            raise ConfigError(f"num_jobs must be at least 1, got {num_jobs}")
        if beam is not None and beam <= 0:
            raise ConfigError(f"beam must be positive, got {beam}")
        if timeout_s is not None and timeout_s <= 0:
            raise ConfigError(f"timeout_s must be positive, got {timeout_s}")
        binary = shutil.which(mfa_binary)
        if binary is None:
            raise AlignmentError(NOT_FOUND)
        self.binary = binary
        self.dictionary = dictionary
        self.acoustic_model = acoustic_model
        self.extra_args = tuple(extra_args)
        self.num_jobs = num_jobs
        self.beam = beam
        self.timeout_s = timeout_s

    def align(self, samples: np.ndarray, sr: int, transcript: str) -> list[Word]:
        """Align one utterance (one whole ``mfa align`` run: prefer :meth:`align_corpus` for many)."""
        result = self.align_corpus([BatchItem("utterance", samples, sr, transcript)])["utterance"]
        if isinstance(result, AlignmentError):
            raise result
        return result

    def align_corpus(self, items: Iterable[BatchItem]) -> dict[str, list[Word] | AlignmentError]:
        """Align a batch of :class:`~vowelprompt.align.BatchItem` in one ``mfa align`` run.

        Returns every id, mapped to its words or to the :class:`~vowelprompt.errors.AlignmentError`
        that says why MFA gave none. Items without a speaker get a speaker folder each (MFA adapts to
        each folder's voice, and unknown voices must not be pooled). Raises ``AlignmentError`` when
        MFA itself fails or times out, or an item's rate is not :data:`~vowelprompt.audio.ANALYSIS_SR` (before
        anything runs), and ``ValueError`` for duplicate ids or non-mono samples.
        """
        items = list(items)
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("align_corpus: item ids must be unique")
        for item in items:
            require_analysis_rate(item.sr, "MFA")
        results: dict[str, list[Word] | AlignmentError] = {}
        with tempfile.TemporaryDirectory(prefix="vowelprompt-mfa-") as tmp:
            # MFA names its working directory after the corpus folder: a name unique to this process
            # keeps concurrent runs apart, and --clean clears the previous batch's files.
            corpus = Path(tmp) / f"vowelprompt_{os.getpid()}"
            output = Path(tmp) / "aligned"
            names = _write_corpus(corpus, items, results)
            if names:
                self._run(corpus, output)
            # MFA mirrors the corpus folders in the output folder: <speaker>/<name>.TextGrid
            textgrids = {path.stem: path for path in output.rglob("*.TextGrid")}
            for item_id, name in names.items():
                results[item_id] = self._collect(item_id, textgrids.get(name))
        return {item_id: results[item_id] for item_id in ids}

    def command(self, corpus: Path, output: Path) -> list[str]:
        """The ``mfa align`` command line for a corpus folder and an output folder.

        Options follow the four positional arguments, as in MFA's documentation: MFA 3 passes options it
        does not declare (``--beam``) through to its configuration, and its parser would take the value
        of such an option placed first for the corpus directory.
        """
        cmd = [self.binary, "align", str(corpus), self.dictionary, self.acoustic_model, str(output)]
        cmd += [
            "--clean",
            "--overwrite",
            "--output_format",
            "long_textgrid",
            "--num_jobs",
            str(self.num_jobs),
        ]
        if self.beam is not None:
            cmd += ["--beam", str(self.beam)]
        return [*cmd, *self.extra_args]

    def _run(self, corpus: Path, output: Path) -> None:
        try:
            proc = subprocess.run(
                self.command(corpus, output),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AlignmentError(f"mfa align did not finish within {self.timeout_s:g} s") from exc
        if proc.returncode != 0:
            lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
            tail = " | ".join(lines[-_ERROR_LINES:]) or "no error output"
            raise AlignmentError(f"mfa align failed (exit status {proc.returncode}): {tail}")

    @staticmethod
    def _collect(item_id: str, textgrid: Path | None) -> list[Word] | AlignmentError:
        if textgrid is None:
            return AlignmentError(
                f"MFA produced no alignment for {item_id!r} (no TextGrid: too short, only words missing "
                "from its dictionary, or a beam too narrow; see MFA's log)"
            )
        try:
            words = read_alignment(textgrid)
        except AlignmentError as exc:
            return exc
        if not any(w.phones for w in words):
            return AlignmentError(
                f"MFA aligned no word of {item_id!r} to phones (all missing from its dictionary?)"
            )
        # read_alignment marks words as imported; these come from MFA's own dictionary
        return [dataclasses.replace(w, pron_source="dictionary") if w.phones else w for w in words]


def _write_corpus(
    corpus: Path, items: list[BatchItem], results: dict[str, list[Word] | AlignmentError]
) -> dict[str, str]:
    """Write ``<speaker>/<name>.wav`` + ``.lab`` per item; return id → file name for those written.

    File and folder names are generated (``u000001``, ``s0001``) because ids and speaker names may hold
    characters MFA or the file system treat specially; an empty transcript is answered here.
    """
    names: dict[str, str] = {}
    folders: dict[str, str] = {}
    for index, item in enumerate(items):
        text = " ".join(item.text.split())
        if not text:
            results[item.id] = AlignmentError(f"empty transcript for {item.id!r}: nothing to align")
            continue
        key = item.speaker if item.speaker is not None else f"\0{index}"  # no speaker: a folder of its own
        folder = corpus / folders.setdefault(key, f"s{len(folders) + 1:04d}")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"u{index + 1:06d}"
        # 16 kHz (the analysis rate, checked above) is the rate MFA's pretrained models are trained at: the
        # corpus is written as it comes, and MFA has nothing to resample.
        sf.write(folder / f"{name}.wav", _pcm(item.samples), item.sr, subtype="PCM_16")
        (folder / f"{name}.lab").write_text(text + "\n", encoding="utf-8")
        names[item.id] = name
    return names


def _pcm(samples: np.ndarray) -> np.ndarray:
    """Mono samples as float32 in [-1, 1] (signed integer PCM scaled to full scale)."""
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples, got an array of shape {samples.shape}")
    audio = samples.astype(np.float32)
    if samples.dtype.kind == "i":
        audio /= np.iinfo(samples.dtype).max + 1  # signed integer PCM: full scale → 1.0
    return np.clip(audio, -1.0, 1.0)  # PCM_16 cannot hold more than full scale
