//! `perfbundle completions SHELL` and `perfbundle man`: shell completions and
//! the man page, generated from the same clap definitions as the parser.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

/// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
#[derive(Args, Debug)]
#[command(after_help = "Install:\n  \
  bash: perfbundle completions bash > ~/.local/share/bash-completion/completions/perfbundle\n  \
  zsh:  perfbundle completions zsh > ~/.zfunc/_perfbundle   (with fpath+=(~/.zfunc) before compinit)\n  \
  fish: perfbundle completions fish > ~/.config/fish/completions/perfbundle.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

/// Print the man page (roff) to stdout, or write one page per command into a folder.
#[derive(Args, Debug)]
#[command(after_help = "Install:\n  \
  perfbundle man --out-dir ~/.local/share/man/man1   (then: man perfbundle, man perfbundle-diff)\n  \
  perfbundle man | man -l -                           (read it without installing)")]
pub struct ManArgs {
    /// Write perfbundle.1 and one perfbundle-COMMAND.1 per subcommand into this folder.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn run(a: CompletionsArgs) -> Result<ExitCode> {
    use clap_complete::Shell as S;
    let shell = match a.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = crate::cli_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "perfbundle", &mut out);
    crate::emit(&String::from_utf8_lossy(&out));
    Ok(ExitCode::SUCCESS)
}

fn render(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).context("rendering the man page")?;
    Ok(out)
}

pub fn run_man(a: ManArgs) -> Result<ExitCode> {
    let cmd = crate::cli_command();
    match a.out_dir {
        None => crate::emit(&String::from_utf8_lossy(&render(cmd)?)),
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create; give a folder you can write to", dir.display()))?;
            let mut cmd = cmd;
            cmd.build();
            let mut pages = vec![("perfbundle.1".to_string(), render(cmd.clone())?)];
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                // `perfbundle-diff(1)`: the page's own name, as git's pages are named.
                let name = format!("perfbundle-{}", sub.get_name());
                let sub = sub
                    .clone()
                    .name(name.clone())
                    .display_name(name.clone())
                    .bin_name(format!("perfbundle {}", sub.get_name()));
                pages.push((format!("{name}.1"), render(sub)?));
            }
            for (name, bytes) in &pages {
                let p = dir.join(name);
                std::fs::write(&p, bytes).with_context(|| format!("{}: cannot write", p.display()))?;
            }
            crate::emit(&format!("wrote {} man pages into {}\n", pages.len(), crate::terminal::path(&dir)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        crate::cli_command().debug_assert();
    }

    #[test]
    fn the_man_page_names_every_command() {
        let page = String::from_utf8(super::render(crate::cli_command()).unwrap()).unwrap();
        for c in ["pack", "inspect", "diff", "view", "html", "site", "completions", "man"] {
            assert!(page.contains(&format!("perfbundle\\-{c}")) || page.contains(c), "{c}");
        }
    }
}
