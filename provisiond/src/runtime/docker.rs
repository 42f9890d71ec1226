//! The `docker` runtime: each workload a container through the Docker Engine API.
