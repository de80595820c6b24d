"""/proc/cpuinfo text to the CPU's model name and watched flags: a pure function."""

from __future__ import annotations

from pathlib import Path

from trainer.runtime.cpuinfo import WATCHED_FLAGS, CpuFeatures, parse_cpuinfo, read_cpu_features

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse2 avx fma f16c avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: Some Other Name
flags\t\t: fpu
"""
AVX2_ONLY = "processor : 0\nmodel name : AMD Ryzen 7 3700X\nflags : sse2 avx avx2 fma f16c\n"
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32\n"


def test_first_processor_with_every_watched_flag() -> None:
    assert parse_cpuinfo(SAPPHIRE_RAPIDS) == CpuFeatures(
        "Intel(R) Xeon(R) Platinum 8480+", WATCHED_FLAGS, ()
    )


def test_missing_flags_are_listed_in_watched_order() -> None:
    features = parse_cpuinfo(AVX2_ONLY)
    assert features.model == "AMD Ryzen 7 3700X"
    assert features.flags == ("avx2", "fma", "f16c")
    assert features.missing == ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def test_text_without_model_name_or_flags_is_unknown() -> None:
    assert parse_cpuinfo(ARM) == CpuFeatures("unknown", (), ())
    assert parse_cpuinfo("") == CpuFeatures("unknown", (), ())
    assert parse_cpuinfo("\x00garbage:::\n\n\n") == CpuFeatures("unknown", (), ())


def test_a_machine_without_proc_cpuinfo_is_unknown(tmp_path: Path) -> None:
    assert read_cpu_features(tmp_path / "absent") == CpuFeatures("unknown", (), ())
