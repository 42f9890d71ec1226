pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("pool benchmark not written yet")
}
