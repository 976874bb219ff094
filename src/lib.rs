//! onestep facade
