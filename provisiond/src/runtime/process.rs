//! The `process` runtime: each workload a supervised child command in its own process
//! group and directory under the data dir.
