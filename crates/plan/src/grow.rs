//! Sharing a free area among new partitions, as systemd-repart's
//! `context_grow_partitions_on_free_area()` does (src/partition/repart.c):
//! three phases over the partitions in definition order, each restarted
//! whenever a partition is charged outside the weight-based share.
//!
//! 1. overcharge: partitions whose minimum exceeds their share get their
//!    minimum; 2. undercharge: partitions whose maximum is below their
//!    share get their maximum; 3. distribute: the rest get their share
//!    rounded down to the grain. Padding takes part the same way, with
//!    `PaddingWeight=`. What is left goes to the first partitions that can
//!    still grow; what nobody takes stays free at the end of the disk.
//!
//! Only the case of a fresh disk (one free area, nothing before it) is
//! handled: nix-repart always creates a new image.

use nix_repart_spec::Bytes;

/// What one partition asks of the free area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// A multiple of the grain.
    pub min: Bytes,
    /// At least `min`; `None` when unlimited.
    pub max: Option<Bytes>,
    pub padding_min: Option<Bytes>,
    pub padding_max: Option<Bytes>,
    pub weight: u64,
    pub padding_weight: u64,
}

/// What one partition gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub size: Bytes,
    pub padding: Bytes,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Overcharge,
    Undercharge,
    Distribute,
}

enum Outcome {
    Again,
    Done,
}

struct Area {
    span: u64,
    weight_sum: u64,
    grain: u64,
    sizes: Vec<Option<u64>>,
    paddings: Vec<Option<u64>>,
}

impl Area {
    /// systemd's `charge_size()` and `charge_weight()`.
    fn charge(&mut self, amount: u64, weight: u64) {
        let rounded = Bytes(amount).round_up(Bytes(self.grain)).0;
        self.span = self.span.saturating_sub(rounded);
        self.weight_sum -= weight;
    }

    /// systemd's `scale_by_weight()`, without its overflow limit.
    fn share(&self, weight: u64) -> u64 {
        if weight == 0 {
            return 0;
        }
        (u128::from(self.span) * u128::from(weight) / u128::from(self.weight_sum)) as u64
    }

    fn round_down(&self, value: u64) -> u64 {
        value / self.grain * self.grain
    }

    fn size_phase(&mut self, i: usize, d: &Demand, phase: Phase) -> Option<Outcome> {
        let share = self.share(d.weight);
        let (min, max) = (d.min.0, d.max.map_or(u64::MAX, |m| m.0));
        let (size, again) = match phase {
            Phase::Overcharge if min > share => (min, true),
            Phase::Undercharge if max < share => (max, true),
            Phase::Distribute => (self.round_down(share).max(min), false),
            _ => return None,
        };
        self.sizes[i] = Some(size);
        self.charge(size, d.weight);
        again.then_some(Outcome::Again)
    }

    fn padding_phase(&mut self, i: usize, d: &Demand, phase: Phase) -> Option<Outcome> {
        let share = self.share(d.padding_weight);
        let (padding, again) = match (phase, d.padding_min, d.padding_max) {
            (Phase::Overcharge, Some(min), _) if min.0 > share => (min.0, true),
            (Phase::Undercharge, _, Some(max)) if max.0 < share => (max.0, true),
            (Phase::Distribute, min, _) => (self.round_down(share).max(min.map_or(0, |m| m.0)), false),
            _ => return None,
        };
        self.paddings[i] = Some(padding);
        self.charge(padding, d.padding_weight);
        again.then_some(Outcome::Again)
    }

    fn phase(&mut self, demands: &[Demand], phase: Phase) -> Outcome {
        for (i, d) in demands.iter().enumerate() {
            if self.sizes[i].is_none() {
                if let Some(again) = self.size_phase(i, d, phase) {
                    return again;
                }
            }
            if self.paddings[i].is_none() {
                if let Some(again) = self.padding_phase(i, d, phase) {
                    return again;
                }
            }
        }
        Outcome::Done
    }

    /// Leftover space goes to the first partitions that can still grow.
    fn donate_leftover(&mut self, demands: &[Demand]) {
        for (i, d) in demands.iter().enumerate() {
            if self.span == 0 {
                break;
            }
            let size = self.sizes[i].unwrap_or(d.min.0);
            let grown = size.max(self.round_down(size.saturating_add(self.span)));
            let grown = grown.min(d.max.map_or(u64::MAX, |m| m.0));
            self.charge(grown - size, 0);
            self.sizes[i] = Some(grown);
        }
    }
}

/// Shares `area` bytes among `demands`, which the caller has checked fit.
pub fn grow(demands: &[Demand], area: Bytes, grain: Bytes) -> Vec<Allocation> {
    let mut state = Area {
        span: area.0,
        weight_sum: demands.iter().map(|d| d.weight + d.padding_weight).sum(),
        grain: grain.0,
        sizes: vec![None; demands.len()],
        paddings: vec![None; demands.len()],
    };
    for phase in [Phase::Overcharge, Phase::Undercharge, Phase::Distribute] {
        while let Outcome::Again = state.phase(demands, phase) {}
    }
    state.donate_leftover(demands);
    state
        .sizes
        .iter()
        .zip(&state.paddings)
        .zip(demands)
        .map(|((size, padding), d)| Allocation {
            size: Bytes(size.unwrap_or(d.min.0)),
            padding: Bytes(padding.unwrap_or(0)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const GRAIN: Bytes = Bytes(4096);

    fn demand(min_mib: u64, weight: u64) -> Demand {
        Demand { min: Bytes(min_mib * MIB), max: None, padding_min: None, padding_max: None, weight, padding_weight: 0 }
    }

    #[test]
    fn weights_share_free_space() {
        let got = grow(&[demand(10, 2000), demand(10, 1000)], Bytes(300 * MIB), GRAIN);
        assert_eq!(got[0].size, Bytes(200 * MIB));
        assert_eq!(got[1].size, Bytes(100 * MIB));
    }

    #[test]
    fn minimum_above_share_is_taken_first() {
        let got = grow(&[demand(250, 1000), demand(10, 1000)], Bytes(300 * MIB), GRAIN);
        assert_eq!(got[0].size, Bytes(250 * MIB));
        assert_eq!(got[1].size, Bytes(50 * MIB));
    }

    #[test]
    fn maximum_below_share_leaves_the_rest_to_others() {
        let mut capped = demand(10, 1000);
        capped.max = Some(Bytes(20 * MIB));
        let got = grow(&[capped, demand(10, 1000)], Bytes(300 * MIB), GRAIN);
        assert_eq!(got[0].size, Bytes(20 * MIB));
        assert_eq!(got[1].size, Bytes(280 * MIB));
    }

    #[test]
    fn zero_weight_keeps_the_minimum() {
        let got = grow(&[demand(10, 0), demand(10, 1000)], Bytes(100 * MIB), GRAIN);
        assert_eq!(got[0].size, Bytes(10 * MIB));
        assert_eq!(got[1].size, Bytes(90 * MIB));
    }

    #[test]
    fn padding_weight_takes_a_share() {
        let mut padded = demand(10, 1000);
        padded.padding_weight = 1000;
        let got = grow(&[padded], Bytes(100 * MIB), GRAIN);
        assert_eq!(got[0].size, Bytes(50 * MIB));
        assert_eq!(got[0].padding, Bytes(50 * MIB));
    }
}
