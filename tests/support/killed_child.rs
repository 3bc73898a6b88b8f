//! What the SIGKILL scenarios share: a child process that cannot outlive a failing test, and the
//! fixed pseudo-random draws their kill plans are made from (the same plan every run, so a failing
//! round can be replayed).

use std::process::Child;

/// A child process, killed and reaped when this is dropped: a test that fails while its child
/// runs leaves no process behind.
pub struct KilledOnDrop(pub Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rounds` draws of a 64-bit linear congruential generator started from `seed` (Knuth's MMIX
/// constants, the high 31 bits of each state): what a kill plan picks each round's moment from.
pub fn plan_draws(seed: u64, rounds: usize) -> impl Iterator<Item = usize> {
    let mut state = seed;
    (0..rounds).map(move |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    })
}
