//! A real, small disk for full-disk tests: a tmpfs mounted for the test, whose limits on bytes and
//! on files (inodes) can be moved while it is in use (`mount -o remount`), so a test can fill it
//! to exactly the point where the next page or the next file fails with ENOSPC, and free it again,
//! without a byte of fault injection in the library. Mounting needs root (CI runs as root);
//! [`TinyDisk::mount`] says why it cannot mount, so tests can skip, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Bytes of a tmpfs page, the unit its byte limit counts in.
pub const PAGE_BYTES: u64 = 4096;

/// A tmpfs, unmounted when dropped.
pub struct TinyDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

/// What a file system holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used_bytes: u64,
    pub used_inodes: u64,
}

impl TinyDisk {
    /// Mounts a tmpfs of `bytes`, or says why it cannot.
    pub fn mount(bytes: u64) -> Result<TinyDisk, String> {
        let parent = tempfile::tempdir().map_err(|error| error.to_string())?;
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).map_err(|error| error.to_string())?;
        mount(
            &["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"],
            &path,
        )?;
        Ok(TinyDisk {
            path,
            _parent: parent,
        })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the disk holds now.
    pub fn usage(&self) -> Usage {
        let path = std::ffi::CString::new(self.path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: statvfs fills the zeroed struct it is given; the path is a valid C string.
        let stats = unsafe {
            let mut stats: libc::statvfs = std::mem::zeroed();
            assert_eq!(libc::statvfs(path.as_ptr(), &mut stats), 0, "statvfs");
            stats
        };
        Usage {
            used_bytes: (stats.f_blocks - stats.f_bfree) * stats.f_frsize,
            used_inodes: stats.f_files - stats.f_ffree,
        }
    }

    /// Lets the disk hold only `free_pages` more pages and `free_inodes` more files than it holds
    /// now: the next allocation beyond fails with ENOSPC.
    pub fn leave_free(&self, free_pages: u64, free_inodes: u64) {
        let usage = self.usage();
        self.set_limits(
            usage.used_bytes + free_pages * PAGE_BYTES,
            usage.used_inodes + free_inodes,
        );
    }

    /// Room again: 64 MiB and a thousand files more than it holds.
    pub fn free(&self) {
        let usage = self.usage();
        self.set_limits(usage.used_bytes + (64 << 20), usage.used_inodes + 1000);
    }

    fn set_limits(&self, bytes: u64, inodes: u64) {
        let options = format!("remount,size={bytes},nr_inodes={inodes}");
        mount(&["-o", &options], &self.path).expect("remounting the tmpfs with new limits");
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn mount(arguments: &[&str], path: &Path) -> Result<(), String> {
    let output = Command::new("mount")
        .args(arguments)
        .arg(path)
        .output()
        .map_err(|error| format!("running mount: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}
