//! Crash images: a segment header that was made durable (by `sync()`) is damaged. Whether the
//! segment is the last one or an earlier one, opening must fail with `Corrupt` naming that file:
//! synced data is never skipped or deleted silently.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, LogError, ShardLog};

const SEGMENT_BYTES: u64 = 8 * 1024;

#[test]
fn recovery_refuses_a_damaged_segment_header_below_the_durable_point() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    append_until_segments(&log, &clock, 0, 3, 3);
    log.sync().unwrap();
    crash(log);
    let image = Image::capture(dir.path());
    let bases = image.segment_bases();
    assert_eq!(bases.len(), 3);

    // The undamaged image opens: the failures below are the damage's doing.
    let pristine = scratch_dir();
    image.restore(pristine.path());
    drop(open(pristine.path(), &options));

    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 4] = [
        ("header zeroed", |file| file[..64].fill(0)),
        ("magic garbled", |file| file[2] ^= 0x10),
        ("header checksum garbled", |file| file[61] ^= 0x80),
        ("file shorter than a header", |file| file.truncate(40)),
    ];
    for base in [bases[2], bases[1], bases[0]] {
        for (what, damage) in damages {
            let context = format!("segment {base}: {what}");
            let mut damaged = image.clone();
            damage(damaged.file_mut(&segment_name(base)));
            let dir = scratch_dir();
            damaged.restore(dir.path());
            match ShardLog::open(dir.path(), options.clone()) {
                Err(LogError::Corrupt { path, .. }) => assert!(
                    path.ends_with(segment_name(base)),
                    "{context}: corruption reported in {}",
                    path.display()
                ),
                Err(error) => panic!("{context}: expected Corrupt, got {error}"),
                Ok((_, report)) => {
                    panic!("{context}: opened a log with a damaged synced header: {report:?}")
                }
            }
            assert!(
                dir.path().join(segment_name(base)).exists(),
                "{context}: the damaged segment was deleted"
            );
        }
    }
}
