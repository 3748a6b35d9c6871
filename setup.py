"""Build of the optional C extensions ``chatmigrate.dump._native`` (the dump reader's tuple loop)
and ``chatmigrate.phase6._compact`` (step 1's lookups in compact form).

Everything else about the package is in pyproject.toml. Both are optional: where no C
compiler (or no Python headers) is found, setuptools warns "building optional extension failed"
and the install succeeds; chatmigrate then uses its pure-Python reader (``DumpReader.engine``
says which one runs) and plain dicts for step 1's lookups (``phase6.compact.native_available``).
"""

import os

from setuptools import Extension, setup

flags = [] if os.name == "nt" else ["-O2", "-Wall", "-Wextra"]

setup(
    ext_modules=[
        Extension(
            "chatmigrate.dump._native",
            ["src/chatmigrate/dump/_native.c"],
            extra_compile_args=flags,
            optional=True,
        ),
        Extension(
            "chatmigrate.phase6._compact",
            ["src/chatmigrate/phase6/_compact.c"],
            extra_compile_args=flags,
            optional=True,
        ),
    ]
)
