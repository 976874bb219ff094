//! Integration tests of onestep-theory in one test binary: spike locations against their own
//! simulation, and the deterministic equivalents against seeded simulations.
mod locations;
mod network;
mod simulation;
mod srf;
