"""Training data from annotated, labelled rows (docs/method.md §3): SFT and GRPO datasets in TRL's formats.

- SFT rows are conversational prompt/completion pairs: ``{"prompt": [system, user], "completion":
  [assistant], "label", "id"}``; TRL's SFTTrainer computes the loss on the completion only.
- GRPO rows are ``{"prompt": [system, user], "label", "id"}``; the ``label`` column reaches the reward
  functions (:mod:`vowelprompt.rewards`) as a keyword argument.
- Given ``gold`` (a prepared manifest's rows by id, ``build-dataset --gold``), rows also carry its ``vad``
  (for :func:`~vowelprompt.rewards.rating_reward`) and ``blend`` (:func:`~vowelprompt.rewards.blend_reward`)
  columns; for the blend and dimensions tasks an SFT completion answers with the gold blend (or the gold
  label at 100) or the gold ratings, and a row without gold ratings is left out of dimensions SFT data.

Completions need a reasoning trace. Two sources:

- :func:`deterministic_trace` — offline, no teacher: names the most salient vowel cues (largest |z|) and the
  gold label. Cheap and grounded by construction (it only cites cues that are in the prompt).
- :func:`teacher_traces` — a teacher model through any backend is shown the input *and the gold label* and
  asked to explain it from the words and the vowel cues (as the paper did with GPT-4o); traces whose own
  answer disagrees with the gold label are dropped and counted.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from vowelprompt.backends import Backend, Sampling
from vowelprompt.errors import BackendError, ConfigError, InputError
from vowelprompt.labels import LabelSet
from vowelprompt.parse import parse
from vowelprompt.prompts import (
    PromptConfig,
    Template,
    conversation,
    data_text,
    dialogues,
    neutralize,
    prompt_inputs,
)
from vowelprompt.prompts.tasks import DIMENSIONS, number
from vowelprompt.records import Annotation, Vowel
from vowelprompt.verbalize import DURATION_WORDS, NOUNS, SLOPE_STEPS, speechcue, vowel_summary


@dataclass(frozen=True)
class DatasetConfig:
    """How rows are selected and split."""

    fraction: float = 1.0
    """Share of the labelled rows to keep (the paper's SFT stage used 20 %)."""
    seed: int = 0
    """Seed of the selection and of the train/eval split."""
    balanced: bool = False
    """Sample the same number of rows per class (as many as the rarest class allows within ``fraction``)."""
    eval_fraction: float = 0.0
    """Share of the selected rows held out as an eval split (by row; use speaker-disjoint manifests for
    speaker-independent evaluation)."""
    prompt: PromptConfig = field(default_factory=PromptConfig)
    cite: int = 1
    """How many vowel cues a deterministic VowelPrompt trace cites before its summary (0: summary only)."""
    interleave: bool = False
    """Order the rows round-robin by class (shuffled within each class by ``seed``), not in corpus order:
    while all classes last, each round holds one row per class. With GRPO's ``shuffle_dataset: false``
    every step then sees the classes in equal shares, and its reward curve does not record which classes
    the sampler happened to draw."""

    def __post_init__(self):
        if not 0 < self.fraction <= 1 or not 0 <= self.eval_fraction < 1:
            raise ConfigError("need 0 < fraction ≤ 1 and 0 ≤ eval_fraction < 1")
        if self.cite < 0:
            raise ConfigError(f"cite must be 0 or more, got {self.cite}")


def usable(rows: list[Annotation], labels: LabelSet) -> list[Annotation]:
    """Rows that can be training examples: annotated, with a gold label in the set."""
    return [r for r in rows if r.ok and isinstance(r.label, str) and labels.normalize(r.label)]


def select(rows: list[Annotation], labels: LabelSet, config: DatasetConfig) -> list[Annotation]:
    """:func:`usable` rows, subsampled by ``fraction``, optionally balanced."""
    candidates = usable(rows, labels)
    rng = random.Random(config.seed)
    by_class: dict[str, list[Annotation]] = defaultdict(list)
    for row in candidates:
        by_class[labels.normalize(row.label)].append(row)
    chosen: list[Annotation] = []
    if config.balanced:
        per_class = max(1, round(config.fraction * min(len(v) for v in by_class.values()))) if by_class else 0
        for label in sorted(by_class):
            chosen += rng.sample(by_class[label], min(per_class, len(by_class[label])))
    else:
        chosen = (
            rng.sample(candidates, max(1, round(config.fraction * len(candidates)))) if candidates else []
        )
    order = {r.id: i for i, r in enumerate(rows)}
    return sorted(chosen, key=lambda r: order[r.id])


def _salient(vowel: Vowel) -> list[tuple[float, str]]:
    """(|z|, phrase) for each binned descriptor of a vowel that is not medium."""
    out = []
    for desc, noun in NOUNS.items():
        level = vowel.bins.get(desc)
        if level is None or level == "medium" or desc not in vowel.z:
            continue
        word = DURATION_WORDS[level] if desc == "duration" else level
        out.append((abs(vowel.z[desc]), f"{word} {noun}"))
    slope = vowel.bins.get("pitch_slope", "flat")
    if abs(SLOPE_STEPS.get(slope, 0)) >= 2:  # moderately or steeply
        out.append((abs(vowel.z.get("pitch_slope", 1.5)), f"a {slope} pitch"))
    return out


#: What a template shows of the prosody, by the variable that carries it: the trace cites only that.
CUE_VARIABLES = {"vowel_descriptions": "vowel", "utterance_description": "utterance"}


def cue_level(template: Template) -> str:
    """``vowel``, ``utterance`` or ``none``: the prosody a template's prompt shows (so its traces cite it)."""
    for variable, level in CUE_VARIABLES.items():
        if variable in template.variables:
            return level
    return "none"


def deterministic_trace(row: Annotation, gold: str, top: int = 1, cues: str = "vowel") -> str:
    """A short grounded explanation naming the cues the prompt shows, then the answer.

    ``cues="vowel"``: the ``top`` most extreme vowel cues in the paper style's words (so the grounding reward
    scores such traces 1), then how the vowels lean over the utterance (:func:`vowel_summary`: pitch slope,
    pitch, intensity and duration), right before the answer it supports; ``top=0`` gives the lean alone.
    ``"utterance"``: the utterance-level characteristics (SpeechCueLLM prompts).
    ``"none"``: the words only (transcript prompts). A trace never cites what its prompt does not show, so
    that models trained on different prompt styles are trained the same way.
    """
    if cues == "none":
        return f"<think>Only the words are given, and they fit {gold}.</think><answer>{gold}</answer>"
    if cues == "utterance":
        said = speechcue(row).removeprefix("Target speech characteristics: ").rstrip(".")
        if said == "not measurable":
            reasoning = f"The speech characteristics could not be measured; the words fit {gold}."
        else:
            reasoning = f"The speech has {said}. Together with the words, this fits {gold}."
        return f"<think>{reasoning}</think><answer>{gold}</answer>"
    if cues != "vowel":
        raise ConfigError(f"cues must be vowel, utterance or none, got {cues!r}")
    scored = []
    for vowel in row.vowels:
        for strength, phrase in _salient(vowel):
            scored.append((strength, vowel, phrase))
    scored.sort(key=lambda x: -x[0])
    picked, seen = [], set()
    for _, vowel, phrase in scored:
        if len(picked) >= top:
            break
        key = (vowel.span.word_index, phrase)
        if key not in seen:
            seen.add(key)
            picked.append(f'the vowel /{vowel.span.ipa}/ in "{data_text(vowel.span.word)}" has {phrase}')
    cited = ""
    if top > 0:
        cues = "; ".join(picked) if picked else "the vowels show no marked prosodic cue"
        cited = f"{cues[0].upper()}{cues[1:]}. "
    reasoning = f"{cited}{vowel_summary(row)} Together with the words, this fits {gold}."
    return f"<think>{reasoning}</think><answer>{gold}</answer>"


TEACHER_INSTRUCTION = (
    "The correct emotion label for this utterance is: {label}. Explain in 2-4 sentences why, citing the "
    "words and the specific vowel cues (word, vowel, and cue as written above) that support it. "
    "Answer in exactly this format: <think>your explanation</think><answer>{label}</answer>"
)


TEACHER_SAMPLING = Sampling(temperature=0.0, max_new_tokens=400)


@dataclass
class TraceReport:
    kept: int = 0
    dropped_disagree: int = 0
    dropped_invalid: int = 0
    failed: int = 0


def teacher_traces(
    rows: list[Annotation],
    backend: Backend,
    config: PromptConfig,
    sampling: Sampling = TEACHER_SAMPLING,
    groups=None,
) -> tuple[dict[str, str], TraceReport]:
    """id → teacher completion for rows whose trace agrees with the gold label; and what was dropped."""
    labels = config.labels
    if config.task != "label":
        raise ConfigError("teacher traces explain a gold label; a blend or ratings take deterministic traces")
    groups = groups or dialogues(rows)
    report = TraceReport()
    chats = []
    for row in rows:
        gold = labels.normalize(row.label or "")
        messages = conversation(row, config, groups)
        messages[-1] = {
            **messages[-1],
            "content": messages[-1]["content"] + "\n\n" + TEACHER_INSTRUCTION.format(label=gold),
        }
        chats.append(messages)
    try:
        texts = backend.generate(chats, sampling)
    except BackendError:
        report.failed = len(rows)
        return {}, report
    traces = {}
    for row, text in zip(rows, texts):
        parsed = parse(text, labels)
        if parsed.label is None:
            report.dropped_invalid += 1
        elif parsed.label != labels.normalize(row.label or ""):
            report.dropped_disagree += 1
        else:
            traces[row.id] = f"<think>{parsed.reasoning}</think><answer>{parsed.label}</answer>"
            report.kept += 1
    return traces, report


def build_rows(
    rows: list[Annotation],
    kind: str,
    config: DatasetConfig = DatasetConfig(),
    traces: dict[str, str] | None = None,
    gold: dict[str, dict] | None = None,
) -> list[dict]:
    """Dataset rows of ``kind`` ``sft`` or ``grpo`` for the selected rows (see the module docstring).

    For SFT, ``traces`` (id → completion, e.g. from :func:`teacher_traces`) are used where given; other rows
    get a :func:`deterministic_trace` unless ``traces`` is given, in which case they are left out.
    """
    if kind not in ("sft", "grpo"):
        raise ConfigError(f"dataset kind must be sft or grpo, got {kind!r}")
    labels, extra = config.prompt.labels, gold
    cues = cue_level(config.prompt.template)
    groups = dialogues(rows)
    out = []
    for row in select(rows, labels, config):
        try:
            prompt_inputs(
                row, config.prompt, groups
            )  # a prompt with nothing of the utterance teaches nothing
        except InputError:
            continue
        gold = labels.normalize(row.label)
        prompt = conversation(row, config.prompt, groups)
        item = {"id": row.id, "prompt": prompt, "label": gold}
        known = (extra or {}).get(row.id) or {}
        item.update({k: known[k] for k in GOLD_COLUMNS if known.get(k) is not None})
        if kind == "sft":
            if traces is not None and row.id not in traces:
                continue
            if traces is not None:
                completion = traces[row.id]
            else:
                completion = deterministic_trace(neutralize(row), gold, config.cite, cues)
                completion = task_answer(completion, config.prompt.task, item)
                if completion is None:
                    continue
            item["completion"] = [{"role": "assistant", "content": completion}]
        out.append(item)
    return interleave(out, config.seed) if config.interleave else out


#: Columns of a prepared manifest's rows that :func:`build_rows` carries (for the rating and blend rewards).
GOLD_COLUMNS = ("vad", "blend")


def task_answer(completion: str, task: str, item: dict) -> str | None:
    """``completion`` with its answer in ``task``'s form: a blend (the gold ``blend``, else the label at 100)
    or the gold ratings (None without them: nothing to teach)."""
    head = completion[: completion.rfind("<answer>")]
    if task == "blend":
        blend = item.get("blend") if isinstance(item.get("blend"), dict) else {item["label"]: 100}
        return head + f"<answer>{', '.join(f'{k} {v}' for k, v in blend.items())}</answer>"
    if task == "dimensions":
        vad = item.get("vad") if isinstance(item.get("vad"), dict) else {}
        if not all(isinstance(vad.get(d), (int, float)) for d in DIMENSIONS):
            return None
        return head + f"<answer>{', '.join(f'{d}={number(round(vad[d], 2))}' for d in DIMENSIONS)}</answer>"
    return completion


def interleave(items: list[dict], seed: int = 0) -> list[dict]:
    """``items`` round-robin by ``label`` in sorted label order, each class shuffled by ``seed``; a class that
    runs out drops out of the rotation."""
    by_class: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_class[item["label"]].append(item)
    rng = random.Random(seed)
    queues = []
    for label in sorted(by_class):
        rng.shuffle(by_class[label])
        queues.append(by_class[label])
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def split(items: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Seeded train/eval split of dataset rows."""
    if not eval_fraction:
        return items, []
    shuffled = items[:]
    random.Random(seed + 1).shuffle(shuffled)
    n_eval = max(1, round(eval_fraction * len(items)))
    held = {i["id"] for i in shuffled[:n_eval]}
    return [i for i in items if i["id"] not in held], [i for i in items if i["id"] in held]
