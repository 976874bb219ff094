//! Integration tests of onestep-data in one test binary: designs, functions, Hermite machinery.
mod design;
mod function;
mod hermite;
