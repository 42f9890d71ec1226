//! cgroup v2 limits (memory, cpu, freezer) for process workloads, where the host lets us.
