"""Audio in containers (vowelprompt.media): AAC in MP4 written with PyAV from espeak-ng speech, as MELD ships
its clips; 5.1 with the speech in the centre channel only and quiet noise in the other five."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import HANG_GUARD_S, REPO, SENTENCES, require

from vowelprompt.audio import ANALYSIS_SR, AudioConfig, load_audio, resample
from vowelprompt.errors import AudioError
from vowelprompt.io import resolve_inputs

require(("av",), "pip install -e '.[media]'", module_level=True)

import av  # noqa: E402

SR = 44_100
TEXT = SENTENCES[1]


def write_mp4(path: Path, channels: np.ndarray, layout: str, sr: int = SR) -> Path:
    """AAC in MP4 (or the container ``path``'s suffix names): ``channels`` is ``(n_channels, n)`` float32 in
    ``layout``'s channel order."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=sr, layout=layout)
        stream.bit_rate = 64_000 * channels.shape[0]
        for start in range(0, channels.shape[1], 1024):
            chunk = np.ascontiguousarray(channels[:, start : start + 1024], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_video_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(25):
            image = np.full((48, 64, 3), i * 10, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def speech(utterance) -> np.ndarray:
    """The espeak-ng utterance at the container's rate."""
    return resample(utterance.samples.astype(np.float32), utterance.sr, SR)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, speech) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    rng = np.random.default_rng(0)
    noise = 0.003 * rng.standard_normal((6, speech.size)).astype(np.float32)  # about -50 dBFS each
    surround = noise.copy()
    surround[2] = speech  # FL FR FC LFE BL BR: the dialogue in the centre
    stereo = np.stack([speech, 0.5 * speech])  # a downmix is 0.75 × the speech
    return {
        "5.1": write_mp4(folder / "clip51.mp4", surround, "5.1"),
        "stereo": write_mp4(folder / "clip_stereo.m4a", stereo, "stereo"),
        "video": write_video_only(folder / "video_only.mp4"),
        "folder": folder,
    }


def lag_and_correlation(got: np.ndarray, ref: np.ndarray) -> tuple[int, float]:
    """The lag of ``got`` against ``ref`` (AAC's encoder delay) and their correlation at that lag."""
    n = got.size + ref.size
    spectrum = np.fft.rfft(got, n) * np.conj(np.fft.rfft(ref, n))
    lag = int(np.argmax(np.fft.irfft(spectrum, n)[: got.size // 4]))  # ref leads; the delay is small
    a, b = got[lag : lag + ref.size], ref[: got.size - lag]
    m = min(a.size, b.size)
    return lag, float(np.corrcoef(a[:m], b[:m])[0, 1])


def level_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def test_centre_channel_of_5_1_is_the_speech_at_its_level(clips, speech):
    audio = load_audio(clips["5.1"])
    ref = resample(speech, SR, ANALYSIS_SR)
    lag, r = lag_and_correlation(audio.samples, ref)
    assert r > 0.95, r
    assert lag < 0.1 * ANALYSIS_SR  # AAC priming: tens of ms, not more
    # The centre channel alone keeps the level; a 6-channel mean would be 15.6 dB down.
    assert abs(level_db(audio.samples[lag : lag + ref.size]) - level_db(ref)) < 1.0
    assert (audio.sr, audio.source_sr, audio.source_channels, audio.source_layout) == (
        ANALYSIS_SR,
        SR,
        6,
        "5.1",
    )
    assert any("5.1" in w and "centre channel" in w for w in audio.warnings), audio.warnings
    assert abs(audio.duration_s - speech.size / SR) < 0.1


def test_stereo_is_downmixed_like_a_wav(clips, speech):
    audio = load_audio(clips["stereo"])
    ref = resample(speech, SR, ANALYSIS_SR)
    lag, r = lag_and_correlation(audio.samples, ref)
    assert r > 0.95, r
    gain = level_db(audio.samples[lag : lag + ref.size]) - level_db(ref)
    assert abs(gain - 20 * np.log10(0.75)) < 1.0, gain  # the mean of L and 0.5 L, not one channel
    assert (audio.source_channels, audio.source_layout, audio.warnings) == (2, "stereo", ())


def test_annotate_mp4_gives_an_ok_row_that_notes_the_centre_channel(clips):
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", "annotate", str(clips["5.1"]), "--text", TEXT, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["status"] == "ok" and len(row["vowels"]) >= 10, row.get("error")
    assert any("5.1" in w and "FC" in w for w in row["warnings"]), row["warnings"]


def test_broken_containers_are_one_line_errors_and_rows(clips, tmp_path):
    data = clips["stereo"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: gone
    text = tmp_path / "notes.m4a"
    text.write_text("not a media file")
    empty = tmp_path / "empty.aac"
    empty.write_bytes(b"")
    expected = {
        cut: "not a readable media file",
        clips["video"]: "no audio stream in this file (it holds: video)",
        text: "not a readable media file",
        empty: "empty file",
    }
    for path, message in expected.items():
        with pytest.raises(AudioError) as info:
            load_audio(path)
        assert message in str(info.value) and str(path) in str(info.value)
        assert "\n" not in str(info.value)
    manifest = tmp_path / "broken.jsonl"
    manifest.write_text("".join(json.dumps({"audio": str(p), "text": TEXT}) + "\n" for p in expected))
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "vowelprompt.cli", "annotate", str(manifest), "-o", str(out), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["audio_error"] * 4
    assert len(proc.stderr.strip().splitlines()) == 4  # one line per failed row


def test_truncated_audio_with_its_index_in_front_is_an_error(tmp_path, speech):
    path = tmp_path / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("aac", rate=SR, layout="mono")
        for start in range(0, speech.size, 1024):
            frame = av.AudioFrame.from_ndarray(
                speech[None, start : start + 1024], format="fltp", layout="mono"
            )
            frame.sample_rate = SR
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert load_audio(path).source_layout == "mono"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the index survives, half the audio does not
    with pytest.raises(AudioError, match="truncated") as info:
        load_audio(path)
    assert "\n" not in str(info.value)


def test_audio_cut_short_is_an_error_not_a_shorter_clip(tmp_path, speech):
    """Matroska decodes what is left without complaint: the duration in its header tells."""
    path = write_mp4(tmp_path / "clip.mkv", speech[None, :], "mono")
    assert abs(load_audio(path).duration_s - speech.size / SR) < 0.1
    data = path.read_bytes()
    for keep in (0.5, 0.85):
        cut = tmp_path / f"cut{keep}.mkv"
        cut.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(
            AudioError, match=r"truncated audio \(the header says 3\.\d\d s, [\d.]+ s could be decoded\)"
        ):
            load_audio(cut)


def test_raw_adts_aac_is_not_judged_by_its_estimated_duration(tmp_path, speech):
    """A bare .aac file has no index: FFmpeg guesses its duration from the first packets' bit rate, and a
    quiet start makes that guess many times too long. Neither the length limit nor the truncation check
    may trust it."""
    path = write_mp4(
        tmp_path / "quiet_start.aac", np.concatenate([np.zeros(3 * SR), speech])[None, :], "mono"
    )
    with av.open(str(path)) as container:
        guess = container.duration / 1e6
    truth = 3 + speech.size / SR
    assert guess > 2 * truth  # the trap (FFmpeg: "Estimating duration from bitrate")
    audio = load_audio(path, AudioConfig(max_duration_s=guess / 2))
    assert abs(audio.duration_s - truth) < 0.1 and audio.source_layout == "mono"
    with pytest.raises(AudioError, match="over the 5 s limit"):  # checked on the decoded audio
        load_audio(path, AudioConfig(max_duration_s=5))


def test_without_pyav_the_error_names_the_extra(clips):
    code = (
        "import sys; sys.modules['av'] = None\n"  # `import av` raises ImportError
        "from vowelprompt.cli import main\n"
        f"sys.exit(main(['annotate', {str(clips['5.1'])!r}, '--text', 'hello there']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "vowelprompt: error: PyAV (av, to read MP4/M4A/AAC audio) is not installed; "
        "install it with: pip install 'vowelprompt[media]'"
    ]


def test_pyav_is_imported_only_to_read_a_container():
    code = "import sys, vowelprompt.cli, vowelprompt.audio, vowelprompt.io; print('av' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert out.stdout.strip() == "False", out.stderr


def test_a_folder_scan_picks_up_containers(clips):
    ids = {item.id for item in resolve_inputs([str(clips["folder"])])}
    assert {"clip51", "clip_stereo", "video_only"} <= ids
