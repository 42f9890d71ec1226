//! `tfchaind genesis new --validators N --out DIR`: a new network for local testnets.

use super::CommandError;
use crate::cli::GenesisCommand;
use crate::keyfile;

pub fn run(cmd: GenesisCommand, now: u64) -> Result<(), CommandError> {
    let GenesisCommand::New {
        validators,
        out,
        name,
    } = cmd;
    let io = |source| CommandError::Io {
        path: out.clone(),
        source,
    };
    std::fs::create_dir_all(&out).map_err(io)?;
    let genesis_path = out.join("genesis.json");
    if genesis_path.exists() {
        return Err(CommandError::Usage(format!(
            "{} already exists: choose an empty directory",
            genesis_path.display()
        )));
    }
    let (genesis, keys) =
        tfchain_genesis::new_network(validators, &name, now, &mut rand::rngs::OsRng)?;
    for (i, v) in keys.iter().enumerate() {
        keyfile::write(&out.join(format!("validator-{i}.json")), &v.key())?;
    }
    std::fs::write(&genesis_path, genesis.to_json_pretty()).map_err(io)?;
    println!("network {name}: genesis {}", genesis.genesis_id());
    println!("wrote {}", genesis_path.display());
    for (i, v) in keys.iter().enumerate() {
        println!("validator {i}: {} (key file validator-{i}.json)", v.address);
    }
    Ok(())
}
