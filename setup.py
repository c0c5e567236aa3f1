"""Builds micronet_ad's compiled module with the project's CMake build (-DMICRONET_AD_PYTHON=ON).

    python3 -m pip install --no-build-isolation .     # metadata in pyproject.toml

Environment: MICRONET_AD_SHARED (the shared data folder; the default model is embedded from its
ad_medium when present), MICRONET_AD_PY_BUILD_DIR (CMake build folder, default
build-python/pip), CMAKE_BUILD_PARALLEL_LEVEL (build jobs, default 2).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SCRATCH = ROOT / "build-python"  # setuptools' own scratch space, away from the CMake build/ folder


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = Path(os.environ.get("MICRONET_AD_PY_BUILD_DIR", SCRATCH / "pip"))
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
            "-DMICRONET_AD_PYTHON=ON", "-DMICRONET_AD_TESTS=OFF", f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if os.environ.get("MICRONET_AD_SHARED"):
            configure.append(f"-DMICRONET_AD_SHARED={os.environ['MICRONET_AD_SHARED']}")
        if shutil.which("ccache"):
            configure += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_micronet_ad", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "micronet_ad").glob("_micronet_ad*.so"))
        if not built:
            raise RuntimeError(f"CMake built no _micronet_ad*.so in {build_dir}/python/micronet_ad")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[-1], target)


SCRATCH.mkdir(exist_ok=True)
setup(
    packages=["micronet_ad"],
    package_dir={"": "python"},
    package_data={"micronet_ad": ["*.pyi", "py.typed"]},
    ext_modules=[CMakeExtension("micronet_ad._micronet_ad")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    options={"build": {"build_base": str(SCRATCH / "setuptools")},
             "egg_info": {"egg_base": str(SCRATCH)}},
)
