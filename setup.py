"""Build of skxsim's compiled extensions: the alignment's DTW kernel and the
matcher's vote scoring, the neighbour engine's preparation of a reference and
its nomination of candidates (C++, for ``std::nth_element``).

Everything else is in pyproject.toml.  FMA contraction is turned off so that
a DTW path's bits do not depend on the CPU the wheel runs on.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            flags = ["/O2", "/fp:precise"]
        else:
            flags = ["-O3", "-ffp-contract=off", "-fno-math-errno"]
        for extension in self.extensions:
            extension.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=cythonize(
        [
            Extension("skxsim._alignment._dtw", ["skxsim/_alignment/_dtw.pyx"]),
            Extension("skxsim._alignment._votes", ["skxsim/_alignment/_votes.pyx"]),
            Extension("skxsim._neighbors._prepare", ["skxsim/_neighbors/_prepare.pyx"]),
            Extension(
                "skxsim._neighbors._nominate",
                ["skxsim/_neighbors/_nominate.pyx"],
                language="c++",
            ),
        ],
        compiler_directives={"language_level": "3"},
    ),
    cmdclass={"build_ext": BuildExt},
)
