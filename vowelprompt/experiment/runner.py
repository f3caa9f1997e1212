"""Run a protocol end to end, fold by fold, each step the one a user could run by hand, each step's output
kept under ``OUTPUT/fold-<f>/`` and reused on a rerun (docs/experiments.md):

1. ``annotate`` the manifest(s) once (unless annotate's rows are given), with no statistics;
2. per fold: the split (``split.json``), statistics fitted on the training part only (``stats.json``; test
   rows are re-levelled with them, as ``predict --stats`` does, without aligning again);
3. zero-shot predictions per template, for the real prompts and each counterfactual control, then scores;
4. optionally SFT then GRPO per template with the recipes (subprocesses), and predictions again;
5. the results tables (``results.md``, ``results.json``) and the run manifest (``experiment.run.json``).

A step whose output is complete is skipped (a ``.done`` marker beside predictions, the file itself for the
others); a prediction step cut short resumes row by row (:class:`~vowelprompt.outputs.RowWriter`).
"""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vowelprompt.errors import ConfigError
from vowelprompt.experiment.config import ExperimentConfig
from vowelprompt.experiment.controls import CONTROLS, control_template, shows_prosody
from vowelprompt.experiment.protocols import fold_names, split_fold
from vowelprompt.experiment.tables import REAL, markdown, report, summarize
from vowelprompt.experiment.training import run_recipe, write_dataset
from vowelprompt.outputs import RowWriter, write_text_atomic

PACKAGE_RECIPES = Path(__file__).resolve().parent.parent.parent / "recipes"


def _null_bar(total: int, desc: str):
    return contextlib.nullcontext(type("Bar", (), {"update": lambda self, n=1: None})())


def _fit(rows: list, path: Path) -> None:
    from vowelprompt.normalize import fit_stats

    fit_stats(rows).save(path)


class Runner:
    """One experiment. ``say`` receives one line per step (the CLI prints it); ``bar(total, desc)`` gives a
    progress bar for the utterances of a step (a context manager with ``update()``)."""

    def __init__(
        self,
        config: ExperimentConfig,
        say: Callable[[str], None] = lambda line: None,
        bar: Callable[[int, str], Any] = _null_bar,
        argv: list[str] | None = None,
    ):
        from vowelprompt.labels import get_label_set, label_map

        self.config, self.say, self.bar, self.argv = config, say, bar, list(argv or [])
        self.out = Path(config.output)
        self.steps: list[dict[str, Any]] = []
        self.cells: list[dict[str, Any]] = []
        self.splits: dict[str, dict] = {}
        self._backend: tuple[str, Any] | None = None
        self.labels = get_label_set(config.scored_labels)
        self.prompt_labels = get_label_set(config.prompt_labels)
        self.mapping = None
        if self.prompt_labels.name != self.labels.name:  # cross-domain: an explicit map, printed
            self.mapping = label_map(self.prompt_labels, self.labels)
        self.recipes = self._recipes() if config.train else None
        from vowelprompt.backends import check_backend

        check_backend(config.backend, model=config.model, **config.backend_options)
        from vowelprompt.prompts import load_template

        for name in {
            *config.templates,
            *(control_template(c, t) for c in CONTROLS for t in config.templates),
        }:
            load_template(name)  # an unknown template fails before any work

    # --- bookkeeping ---------------------------------------------------------------------------------------

    def step(self, name: str, output: Path, work: Callable[..., None], *args, needs: tuple = ()) -> None:
        """Run ``work(*args)`` unless ``output`` exists and is newer than every file it ``needs`` (an input
        that an earlier step redid makes it stale: it is removed and redone); record what happened."""
        newest = max((p.stat().st_mtime_ns for p in needs if p.exists()), default=0)
        if output.exists() and output.stat().st_mtime_ns >= newest:
            self.steps.append({"step": name, "status": "reused", "output": str(output)})
            self.say(f"  (reused) {name}")
            return
        if output.name == "adapter_config.json" and output.parent.exists():
            shutil.rmtree(output.parent)  # a model folder is made whole or not at all
        elif output.exists():  # stale: what it was made from has changed
            output.unlink()
        self.say(f"  {name}")
        start = time.perf_counter()
        work(*args)
        seconds = round(time.perf_counter() - start, 2)
        self.steps.append({"step": name, "status": "ran", "seconds": seconds, "output": str(output)})

    def _recipes(self) -> Path:
        folder = Path(self.config.train.recipes) if self.config.train.recipes else PACKAGE_RECIPES
        if not (folder / "sft.py").is_file():
            raise ConfigError(
                f"no recipes folder at {folder} (sft.py, grpo.py): give train.recipes, the recipes/ folder "
                "of a vowelprompt checkout"
            )
        return folder

    def write_manifest(self, status: str) -> None:
        from vowelprompt.redact import redact_argv, redact_options
        from vowelprompt.versions import package_versions

        config = {k: v for k, v in self.config.__dict__.items() if k != "train"}
        config["backend_options"] = redact_options(dict(self.config.backend_options))
        config["train"] = self.config.train.__dict__ if self.config.train else None
        manifest = {
            "status": status,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": redact_argv(self.argv),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(("vowelprompt", "numpy", "torch", "transformers", "trl", "peft")),
            "protocol": self.config.spec.__dict__,
            "config": config,
            "label_map": self.mapping.describe() if self.mapping else None,
            "splits": self.splits,
            "steps": self.steps,
        }
        write_text_atomic(self.out / "experiment.run.json", json.dumps(manifest, indent=1, default=str))

    # --- the run -------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every fold; return the JSON report (also written to ``OUTPUT/results.json``)."""
        from vowelprompt.io import read_rows

        manifest_rows: list[dict] = []
        for path in self.config.manifest:
            if not Path(path).is_file():
                raise ConfigError(f"manifest {path} not found")
            manifest_rows += [row for _, row, _ in read_rows(path) if isinstance(row, dict) and "id" in row]
        self.check_label_sets(manifest_rows)
        if self.mapping:
            self.say(f"label map (predicted → scored): {self.mapping.describe()}")
        folds = fold_names(self.config.spec, manifest_rows, list(self.config.folds))
        self.say(f"{self.config.protocol}: {self.config.spec.summary}; folds {', '.join(folds)}")
        self.out.mkdir(parents=True, exist_ok=True)  # only once the config and the manifests are sound
        self.write_manifest("running")
        annotations = self.annotations(manifest_rows)
        for fold in folds:
            self.fold(fold, manifest_rows, annotations)
            self.write_tables(self.out / f"fold-{fold}", [c for c in self.cells if c["fold"] == fold])
            self.write_manifest("running")
        result = self.write_tables(self.out, self.cells)
        self.write_manifest("complete")
        return result

    def check_label_sets(self, rows: list[dict]) -> None:
        """The manifest's ``label`` must be in the set the protocol scores (the training set for the training
        corpus of a cross-domain protocol): IEMOCAP prepared in iemocap4 has no excited or frustrated rows."""
        spec = self.config.spec
        wanted = {spec.corpus: self.labels.name, spec.train_corpus: self.prompt_labels.name}
        for row in rows:
            have, want = row.get("label_set"), wanted.get(row.get("dataset"))
            if have and want and have != want:
                raise ConfigError(
                    f"the {row['dataset']} manifest's labels are in {have}, {spec.name} needs {want}: "
                    f"vowelprompt prepare {row['dataset']} ROOT --labels {want} -o ..."
                )

    def annotations(self, manifest_rows: list[dict]) -> dict[str, Any]:
        """Annotation rows by id: annotate's file as given, or the manifests annotated here (resumable)."""
        from vowelprompt.io import read_annotations

        path = Path(self.config.annotations) if self.config.annotations else self.out / "annotations.jsonl"
        if not self.config.annotations:
            self.step("annotate", path.with_suffix(".done"), self._annotate, path)
        rows = {r.id: r for r in read_annotations(path)}
        missing = [r["id"] for r in manifest_rows if r["id"] not in rows]
        if missing:
            raise ConfigError(
                f"{path} has no annotation row for {len(missing)} manifest rows (e.g. {missing[0]}): "
                "annotate the same manifest"
            )
        return rows

    def _annotate(self, path: Path) -> None:
        from vowelprompt.io import read_manifest
        from vowelprompt.pipeline import AnnotateConfig, iter_annotate

        items = [item for m in self.config.manifest for item in read_manifest(m)]
        with RowWriter(path, resume=True, ids=[i.id for i in items]) as writer:
            todo = [i for i in items if i.id not in writer.done]
            with self.bar(len(todo), "annotate") as bar:
                for row in iter_annotate(
                    todo, AnnotateConfig(style=self.config.style), jobs=self.config.jobs
                ):
                    writer.write(row.to_dict())
                    bar.update()
        path.with_suffix(".done").touch()

    def fold(self, fold: str, manifest_rows: list[dict], annotations: dict[str, Any]) -> None:
        from vowelprompt.normalize import Stats
        from vowelprompt.pipeline import AnnotateConfig, renormalize

        config = self.config
        folder = self.out / f"fold-{fold}"
        folder.mkdir(parents=True, exist_ok=True)
        self.say(f"fold {fold}")
        split = split_fold(config.spec, manifest_rows, fold, config.dev_fraction, config.seed)
        split_ids, split_path = json.loads(json.dumps(split.to_dict())), folder / "split.json"
        if split_path.is_file() and json.loads(split_path.read_text(encoding="utf-8")) != split_ids:
            split_path.unlink()  # the config changed the split (dev_fraction, seed): redo what follows
        self.step("split", split_path, write_text_atomic, split_path, json.dumps(split_ids, indent=1))
        self.splits[fold] = {k: len(v) if isinstance(v, list) else v for k, v in split_ids.items()}
        fitted = [annotations[i] for i in (*split_ids["train"], *split_ids["dev"])]  # never a test row
        stats_path = folder / "stats.json"
        self.step("fit-stats (training part)", stats_path, _fit, fitted, stats_path, needs=(split_path,))
        stats = Stats.load(folder / "stats.json")
        annotate = AnnotateConfig(style=config.style)

        def levelled(ids: list[str]) -> list:
            return [renormalize(annotations[i], stats, annotate) for i in ids]

        test = levelled(split_ids["test"])
        for template in config.templates:
            self.predictions(folder, fold, "zero-shot", template, config.model, test, stats_path)
        if not (config.train or config.baselines):
            return
        train, dev = levelled(split_ids["train"]), levelled(split_ids["dev"])
        if config.baselines:
            self.baselines(folder / "baseline", fold, [*train, *dev], test, stats_path)
        if not config.train:
            return
        for template in config.train.templates or config.templates:
            models = self.train(folder, template, train, dev)
            for stage, model in models.items():
                self.predictions(
                    folder, fold, stage, template, str(model), test, model / "adapter_config.json"
                )

    # --- prediction and scores -----------------------------------------------------------------------------

    def backend(self, model: str):
        from vowelprompt.backends import get_backend

        if self._backend is None or self._backend[0] != model:
            self._backend = None  # one model in memory at a time
            self._backend = (
                model,
                get_backend(self.config.backend, model=model, **self.config.backend_options),
            )
        return self._backend[1]

    def predictions(
        self, folder: Path, fold: str, stage: str, template: str, model: str, rows: list, needs: Path
    ) -> None:
        """Predict and score ``rows`` with ``template``: the real prompts, then each control; redone when
        ``needs`` (the statistics or the model) is newer than the predictions."""
        from vowelprompt.prompts import load_template

        controlled = stage in self.config.control_stages and shows_prosody(load_template(template))
        conditions = [REAL, *(self.config.controls if controlled else ())]
        for condition in conditions:
            shown = rows if condition == REAL else CONTROLS[condition](rows, self.config.seed)
            path = folder / stage / template / f"{condition}.jsonl"
            name = f"{stage} {template} {condition}"
            prompt = control_template(condition, template)
            done, scores = path.with_suffix(".done"), path.with_suffix(".scores.json")
            if done.exists() and done.stat().st_mtime_ns < needs.stat().st_mtime_ns:
                path.unlink(missing_ok=True)  # made with an older model or statistics: not to be resumed
            self.step(f"predict {name}", done, self._predict, shown, prompt, model, path, needs=(needs,))
            self.step(f"evaluate {name}", scores, self._evaluate, path, rows, scores, needs=(done,))
            result = json.loads(scores.read_text(encoding="utf-8"))
            cell = {"fold": fold, "stage": stage, "template": template, "condition": condition}
            self.cells.append(cell | {"scores": result, "predictions": str(path)})

    def baselines(self, folder: Path, fold: str, train: list, test: list, needs: Path) -> None:
        """The baselines that need no LLM (:mod:`vowelprompt.baselines`), trained on the fold's training rows:
        one scored cell per kind (stage ``baseline``, template = the kind, condition ``real``)."""
        from vowelprompt.baselines import BaselineConfig, run_baselines
        from vowelprompt.outputs import write_jsonl_atomic

        def work() -> None:
            config = BaselineConfig(
                kinds=self.config.baselines, labels=self.prompt_labels.name, seed=self.config.seed
            )
            for kind, rows in run_baselines(train, test, config).items():
                write_jsonl_atomic(folder / kind / f"{REAL}.jsonl", [p.to_dict() for p in rows])
            (folder / "done").touch()

        folder.mkdir(parents=True, exist_ok=True)
        self.step("baselines", folder / "done", work, needs=(needs,))
        for kind in self.config.baselines:
            path = folder / kind / f"{REAL}.jsonl"
            scores = path.with_suffix(".scores.json")
            self.step(f"evaluate baseline {kind}", scores, self._evaluate, path, test, scores, needs=(path,))
            cell = {"fold": fold, "stage": "baseline", "template": kind, "condition": REAL}
            result = json.loads(scores.read_text(encoding="utf-8"))
            self.cells.append(cell | {"scores": result, "predictions": str(path)})

    def _predict(self, rows: list, template: str, model: str, path: Path) -> None:
        from vowelprompt.backends import Sampling
        from vowelprompt.predict import PredictConfig, iter_predict, run_manifest

        config = PredictConfig(
            template=template,
            labels=self.prompt_labels,
            style=self.config.style,
            batch_size=self.config.batch_size,
        )
        sampling = Sampling(**self.config.sampling)
        path.parent.mkdir(parents=True, exist_ok=True)
        with RowWriter(path, resume=True, ids=[r.id for r in rows]) as writer:
            todo = len(rows) - len(writer.done)
            if todo:  # a model is loaded only when something is left to predict
                backend = self.backend(model)
                manifest = run_manifest(config, backend, sampling, self.argv, self.config.backend_options)
                write_text_atomic(str(path) + ".run.json", json.dumps(manifest, indent=1))
                with self.bar(todo, f"predict {path.parent.name}/{path.stem}") as bar:
                    for prediction in iter_predict(rows, backend, sampling, config, skip=writer.done):
                        writer.write(prediction.to_dict())
                        bar.update()
        path.with_suffix(".done").touch()

    def _evaluate(self, path: Path, rows: list, out: Path) -> None:
        from vowelprompt.evaluation import evaluate
        from vowelprompt.io import read_rows
        from vowelprompt.records import Prediction

        predictions = [Prediction.from_dict(row) for _, row, _ in read_rows(path) if row]
        gold = {r.id: r.label for r in rows if isinstance(r.label, str)}
        mapped = self.prompt_labels.name if self.mapping else None
        result = evaluate(predictions, gold, self.labels.name, mapped)
        data = {**result.scores.to_dict(), "excluded": result.excluded, "mapping": result.mapping}
        write_text_atomic(out, json.dumps(data | {"missing_gold": result.missing_gold}, indent=1))

    # --- training ------------------------------------------------------------------------------------------

    def train(self, folder: Path, template: str, train: list, dev: list) -> dict[str, Path]:
        """SFT (then GRPO, if configured) on the fold's training rows; the validation rows (dev split, or
        held-out training speakers) become SFT's ``eval.jsonl``. Returns stage → adapter folder."""
        recipe, stats = self.config.train, folder / "stats.json"
        sft, grpo = folder / "sft" / template, folder / "grpo" / template
        data, model = sft / "data", sft / "model"
        self.step(f"build-dataset sft {template}", data / "info.json", write_dataset, self, "sft", template,
                  train, dev, data, needs=(stats,))  # fmt: skip
        self.step(f"recipes/sft.py {template}", model / "adapter_config.json", run_recipe, self, "sft.py",
                  recipe.sft, data, model, [], needs=(data / "info.json",))  # fmt: skip
        if not recipe.grpo:
            return {"sft": model}
        extra = ["--model_name_or_path", str(model), "--labels", self.prompt_labels.name]
        self.step(f"build-dataset grpo {template}", grpo / "data" / "info.json", write_dataset, self, "grpo",
                  template, train, [], grpo / "data", needs=(stats,))  # fmt: skip
        needs = (grpo / "data" / "info.json", model / "adapter_config.json")
        self.step(f"recipes/grpo.py {template}", grpo / "model" / "adapter_config.json", run_recipe, self,
                  "grpo.py", recipe.grpo, grpo / "data", grpo / "model", extra, needs=needs)  # fmt: skip
        return {"sft": model, "grpo": grpo / "model"}

    # --- tables --------------------------------------------------------------------------------------------

    def write_tables(self, folder: Path, cells: list[dict[str, Any]]) -> dict[str, Any]:
        notes = [f"Label map (predicted → scored): {self.mapping.describe()}."] if self.mapping else []
        if not self.config.spec.speaker_independent:
            notes.append(f"{self.config.protocol} is speaker-dependent: test speakers are also trained on.")
        result = report(self.config.protocol, cells)
        write_text_atomic(folder / "results.json", json.dumps(result, indent=1))
        write_text_atomic(
            folder / "results.md", markdown(self.config.protocol, summarize(cells), cells, notes)
        )
        return result
