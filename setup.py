"""Builds the cffi extension; everything else is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["cext/build_core.py:ffibuilder"])
