//! What `tapedeck-load` shares with the benchmarks in `server/examples` and `bridge/examples`:
//! starting the measured processes and reading their CPU and memory from /proc.

pub mod procs;
