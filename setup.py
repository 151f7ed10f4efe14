"""Builds the cffi extension; everything else is in pyproject.toml.

cffi compiles ``jackrec._core`` against Python's limited API (the module is
``_core.abi3.so``), so the wheel is tagged ``abi3``: one wheel serves every
CPython from the oldest one ``requires-python`` allows.
"""

from setuptools import setup

setup(
    cffi_modules=["cext/build_core.py:ffibuilder"],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
