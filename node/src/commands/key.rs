//! `tfchaind key generate | show`.

use super::CommandError;
use crate::cli::KeyCommand;
use crate::keyfile;
use rand::RngCore;
use tfchain_types::{Address, SecretKey};

pub fn run(cmd: KeyCommand) -> Result<(), CommandError> {
    match cmd {
        KeyCommand::Generate { out } => {
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let key = SecretKey::from_bytes(&secret);
            keyfile::write(&out, &key)?;
            println!("wrote validator key {} (mode 0600)", out.display());
            println!("address: {}", Address::from_public_key(&key.public_key()));
            println!("public key: {}", key.public_key());
            Ok(())
        }
        KeyCommand::Show { file } => {
            let key = keyfile::read(&file)?;
            println!("address: {}", Address::from_public_key(&key.public_key()));
            println!("public key: {}", key.public_key());
            Ok(())
        }
    }
}
