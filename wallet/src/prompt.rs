//! Getting secrets from the user: the passphrase (`--passphrase-file`, then
//! `TFCHAIN_PASSPHRASE`, then a prompt on the terminal without echo) and mnemonics (a
//! prompt without echo on a terminal, or standard input for scripts).

use crate::error::{Result, WalletError};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;
use tfchain_types::Seed;
use zeroize::Zeroizing;

/// The environment variable holding the passphrase, for scripts.
pub const PASSPHRASE_ENV: &str = "TFCHAIN_PASSPHRASE";

/// Where the passphrase comes from.
#[derive(Clone, Debug, Default)]
pub struct PassphraseSource {
    pub file: Option<std::path::PathBuf>,
}

impl PassphraseSource {
    /// The passphrase of an existing wallet.
    pub fn get(&self) -> Result<Zeroizing<String>> {
        self.read(false)
    }

    /// A new passphrase: typed twice when prompted.
    pub fn get_new(&self) -> Result<Zeroizing<String>> {
        let p = self.read(true)?;
        if p.is_empty() {
            return Err(WalletError::EmptyPassphrase);
        }
        Ok(p)
    }

    fn read(&self, confirm: bool) -> Result<Zeroizing<String>> {
        if let Some(path) = &self.file {
            return read_passphrase_file(path);
        }
        if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
            return Ok(Zeroizing::new(p));
        }
        let first = prompt_hidden(if confirm {
            "New wallet passphrase: "
        } else {
            "Wallet passphrase: "
        })?;
        if confirm {
            let second = prompt_hidden("Repeat the passphrase: ")?;
            if *first != *second {
                return Err(WalletError::PassphraseMismatch);
            }
        }
        Ok(first)
    }
}

/// The file's content without one trailing newline.
fn read_passphrase_file(path: &Path) -> Result<Zeroizing<String>> {
    let mut s = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| WalletError::io("read the passphrase file", path, e))?,
    );
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

/// Reads a line from the terminal without echo.
fn prompt_hidden(prompt: &str) -> Result<Zeroizing<String>> {
    match rpassword::prompt_password(prompt) {
        Ok(p) => Ok(Zeroizing::new(p)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::UnexpectedEof
            ) || e.raw_os_error() == Some(6) =>
        {
            // No controlling terminal (ENXIO = 6): nobody to ask.
            Err(WalletError::NoPassphrase)
        }
        Err(e) => Err(WalletError::PassphrasePrompt(e)),
    }
}

/// A mnemonic: prompted without echo on a terminal, else all of standard input.
pub fn read_mnemonic() -> Result<Seed> {
    let phrase = if std::io::stdin().is_terminal() {
        prompt_hidden("Mnemonic (24 words, not shown): ")?
    } else {
        let mut s = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| WalletError::io("read the mnemonic from", "standard input", e))?;
        s
    };
    Seed::from_mnemonic(&phrase).map_err(|e| WalletError::Mnemonic(e.to_string()))
}

/// Shows a new mnemonic on the terminal and asks for two of its words back.
pub fn confirm_mnemonic(words: &str) -> Result<()> {
    let list: Vec<&str> = words.split(' ').collect();
    let mut tty = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    {
        Ok(t) => t,
        Err(_) => return Err(WalletError::NotConfirmed),
    };
    let mut show = String::from(
        "\nYour wallet mnemonic. Write these 24 words down, in order, and keep them offline:\n\n",
    );
    for (i, chunk) in list.chunks(6).enumerate() {
        let line: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(j, w)| format!("{:>2}. {:<9}", i * 6 + j + 1, w))
            .collect();
        show.push_str(&format!("  {}\n", line.join(" ")));
    }
    show.push_str(
        "\nAnyone with these words owns the coins; this is the only time they are shown.\n",
    );
    tty.write_all(show.as_bytes())
        .map_err(WalletError::PassphrasePrompt)?;
    let mut pick = [0u8; 2];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut pick);
    let a = usize::from(pick[0]) % list.len();
    let mut b = usize::from(pick[1]) % list.len();
    if b == a {
        b = (a + 1) % list.len();
    }
    let (a, b) = (a.min(b), a.max(b));
    let mut reader =
        std::io::BufReader::new(tty.try_clone().map_err(WalletError::PassphrasePrompt)?);
    for idx in [a, b] {
        tty.write_all(format!("Type word #{} to confirm: ", idx + 1).as_bytes())
            .map_err(WalletError::PassphrasePrompt)?;
        let mut line = Zeroizing::new(String::new());
        reader
            .read_line(&mut line)
            .map_err(WalletError::PassphrasePrompt)?;
        if !line.trim().eq_ignore_ascii_case(list[idx]) {
            return Err(WalletError::NotConfirmed);
        }
    }
    tty.write_all(b"\x1b[2J\x1b[H")
        .map_err(WalletError::PassphrasePrompt)?;
    Ok(())
}

/// Shows `summary` on the terminal and asks `question [y/N]`; `Declined` unless the answer
/// is yes, or when there is no terminal to ask on.
pub fn ask_yes(summary: &str, question: &str) -> Result<()> {
    match ask(summary, question)? {
        Some(true) => Ok(()),
        _ => Err(WalletError::Declined),
    }
}

/// Shows `summary` on the terminal and asks `question [y/N]`: whether the answer is yes,
/// or `None` when there is no terminal to ask on.
pub fn ask(summary: &str, question: &str) -> Result<Option<bool>> {
    let Ok(mut tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return Ok(None);
    };
    tty.write_all(format!("{summary}\n{question} [y/N] ").as_bytes())
        .map_err(WalletError::PassphrasePrompt)?;
    let mut reader =
        std::io::BufReader::new(tty.try_clone().map_err(WalletError::PassphrasePrompt)?);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(WalletError::PassphrasePrompt)?;
    Ok(Some(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    )))
}

/// Asks for confirmation of `reasons` (what is unusual about an action), after showing
/// `summary`: nothing to ask when there are none or `yes` is set; with `json` (a script)
/// or without a terminal, [`WalletError::NeedsConfirmation`] lists them; a "no" on the
/// terminal is [`WalletError::Declined`].
pub fn confirm(summary: &str, reasons: &[String], yes: bool, json: bool) -> Result<()> {
    if reasons.is_empty() || yes {
        return Ok(());
    }
    let needs = || WalletError::NeedsConfirmation {
        reasons: reasons.to_vec(),
    };
    if json {
        return Err(needs());
    }
    let mut text = summary.trim_end().to_string();
    text.push_str("\n\nCheck before going on:\n");
    for r in reasons {
        text.push_str(&format!("  - {r}\n"));
    }
    match ask(&text, "Go on?")? {
        Some(true) => Ok(()),
        Some(false) => Err(WalletError::Declined),
        None => Err(needs()),
    }
}
