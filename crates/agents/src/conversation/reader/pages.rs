//! Older pages of a conversation: the turn starts before the live part found by reading
//! the file backwards, stretches of turns parsed between them and a few kept, and single
//! turns and counts asked for by key.

use super::*;

impl ConversationReader {
    /// Opens the file the first time it is asked for.
    fn ensure_open(&mut self) -> Result<(), AgentError> {
        if self.live.is_none() {
            self.poll()?;
        }
        Ok(())
    }

    /// The newest `limit` turns keyed before `before` (the newest turns when `None`), oldest
    /// first, long outputs cut.
    pub fn page(
        &mut self,
        prices: &Prices,
        before: Option<u64>,
        limit: usize,
    ) -> Result<ConversationPage, AgentError> {
        self.ensure_open()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let end = before.unwrap_or(u64::MAX);
        let (mut turns, trusted, live_before) = {
            let Some(live) = self.live.as_ref() else {
                return Err(AgentError::Rewritten {
                    path: self.path.clone(),
                });
            };
            let ts = live.conv.turns();
            let lo = ts.partition_point(|t| t.index < live.trusted);
            let hi = ts.partition_point(|t| t.index < end);
            let first = hi.saturating_sub(limit).max(lo);
            let turns: Vec<Turn> = ts[first.min(hi)..hi].to_vec();
            (turns, live.trusted, first > lo)
        };
        let need = limit - turns.len();
        let mut older = turns.first().map(|t| t.index);
        if need > 0 {
            let cap = end.min(trusted);
            self.scan_until(need + 1, cap)?;
            let i_hi = self.starts.partition_point(|s| s.key < cap);
            let i_lo = i_hi.saturating_sub(need);
            if i_lo < i_hi {
                let mut old = self.stretch(i_lo, i_hi)?;
                old.append(&mut turns);
                turns = old;
            }
            older = turns.first().map(|t| t.index);
            if i_lo == 0 && self.scanned_from == 0 {
                older = None;
            }
        } else if !live_before && self.starts.is_empty() && self.scanned_from == 0 {
            older = None;
        }
        Ok(ConversationPage {
            agent: self.agent.to_string(),
            turns: turns
                .iter()
                .map(|t| served(t, prices, true, |id| self.run_of(id)))
                .collect(),
            older,
            total: self.total(),
        })
    }

    /// Looks backwards for turn starts until `n` are known before `cap` or the file's start
    /// is reached (where the lines before the first start may make a turn of their own).
    fn scan_until(&mut self, n: usize, cap: u64) -> Result<(), AgentError> {
        while self.scanned_from > 0 && self.starts.partition_point(|s| s.key < cap) < n {
            let want = SCAN_STEP.max(n);
            let mut found = Vec::new();
            let mut file = self.open_same()?;
            let template = &self.template;
            lines_backwards(
                &mut file,
                self.scanned_from,
                DEFAULT_MAX_LINE,
                |line, from, key| {
                    if template.starts_turn(line) == Some(true) {
                        found.push(Start { key, from });
                    }
                    found.len() < want
                },
            )
            .map_err(|e| self.io(e))?;
            let reached_start = found.len() < want;
            self.scanned_from = found.last().map_or(0, |s| s.from);
            found.reverse();
            self.starts.splice(0..0, found);
            if reached_start {
                self.scanned_from = 0;
                self.read_head()?;
            }
        }
        Ok(())
    }

    /// The turn the lines before the first turn start make, if any (a session that began
    /// without a prompt), put first among the starts.
    fn read_head(&mut self) -> Result<(), AgentError> {
        let first = match (self.starts.first(), self.live.as_ref()) {
            (Some(s), _) => s.key,
            (None, Some(live)) => live.trusted,
            (None, None) => return Ok(()),
        };
        let turns = self.parse(0, first)?;
        if let Some(head) = turns.iter().find(|t| t.index < first) {
            self.starts.insert(
                0,
                Start {
                    key: head.index,
                    from: 0,
                },
            );
        }
        Ok(())
    }

    /// Opens the file, checking it is still the one being read.
    fn open_same(&self) -> Result<File, AgentError> {
        let mut file = File::open(&self.path).map_err(|e| self.io(e))?;
        let now = TailPosition::at(&mut file, 0).map_err(|e| self.io(e))?;
        let same = self.live.as_ref().is_some_and(|l| {
            l.pos.dev == now.dev && l.pos.ino == now.ino && now.head.starts_with(&l.pos.head)
        });
        if same {
            Ok(file)
        } else {
            Err(AgentError::Rewritten {
                path: self.path.clone(),
            })
        }
    }

    /// The file changed under a read: everything is read again at the next poll.
    fn rewritten(&mut self) -> AgentError {
        self.live = None;
        self.rewritten = true;
        AgentError::Rewritten {
            path: self.path.clone(),
        }
    }

    /// Parses the lines from `from` through the one that ends at `through` with a fresh
    /// parser: its turns.
    fn parse(&mut self, from: u64, through: u64) -> Result<Vec<Turn>, AgentError> {
        let Some(live) = self.live.as_ref() else {
            return Err(self.rewritten());
        };
        let mut pos = TailPosition {
            offset: from,
            skipping: false,
            ..live.pos.clone()
        };
        let mut parser = self.template.fresh();
        let mut conv = Conversation::default();
        let read = read_lines(
            &self.path,
            &mut pos,
            through.saturating_sub(from),
            &mut parser,
            &mut conv,
        )?;
        if read.reset || pos.offset != through {
            return Err(self.rewritten());
        }
        Ok(conv.turns)
    }

    /// The key of the `i`th turn known (the starts, then the live turns), or, past the last,
    /// the end of what was read.
    fn key_at(&self, i: usize) -> Option<u64> {
        if let Some(s) = self.starts.get(i) {
            return Some(s.key);
        }
        let live = self.live.as_ref()?;
        let ts = live.conv.turns();
        let first = ts.partition_point(|t| t.index < live.trusted);
        Some(
            ts.get(first + i - self.starts.len())
                .map_or(live.pos.offset, |t| t.index),
        )
    }

    /// The turns `starts[i_lo..i_hi]`, from a kept stretch or read: from the start of the
    /// turn before them through the line that starts the turn after the next one, so that
    /// what they take from their neighbours (a compaction noted before a prompt, a tool
    /// result written after the next prompt) is read as a whole-file read reads it.
    fn stretch(&mut self, i_lo: usize, i_hi: usize) -> Result<Vec<Turn>, AgentError> {
        let lo = self.starts[i_lo].key;
        let (Some(hi), Some(through)) = (self.key_at(i_hi), self.key_at(i_hi + 1)) else {
            return Err(self.rewritten());
        };
        let wanted = |t: &&Turn| t.index >= lo && t.index < hi;
        if let Some(s) = self.stretches.iter().find(|s| s.lo <= lo && hi <= s.hi) {
            return Ok(s.turns.iter().filter(wanted).cloned().collect());
        }
        let from = match i_lo {
            0 => 0,
            i => self.starts[i - 1].from,
        };
        let turns: Vec<Turn> = self
            .parse(from, through)?
            .into_iter()
            .filter(|t| wanted(&t))
            .collect();
        let keys = turns.iter().map(|t| t.index);
        if !keys.eq(self.starts[i_lo..i_hi].iter().map(|s| s.key)) {
            // The turns are not where they were found: the file was rewritten in place.
            return Err(self.rewritten());
        }
        if self.stretches.len() == CACHED {
            self.stretches.pop_front();
        }
        self.stretches.push_back(Stretch {
            lo,
            hi,
            turns: turns.clone(),
        });
        Ok(turns)
    }

    /// Turn `key` whole (outputs up to [`super::MAX_KEPT`] characters); `None` when no turn
    /// starts there.
    pub fn turn(&mut self, prices: &Prices, key: u64) -> Result<Option<Turn>, AgentError> {
        self.ensure_open()?;
        if let Some(t) = self
            .live
            .as_ref()
            .filter(|l| key >= l.trusted)
            .and_then(|l| l.conv.get(key))
        {
            return Ok(Some(served(t, prices, false, |id| self.run_of(id))));
        }
        while self.scanned_from > 0 && self.starts.first().is_none_or(|s| s.key > key) {
            let n = self.starts.len() + SCAN_STEP;
            self.scan_until(n, u64::MAX)?;
        }
        let Ok(i) = self.starts.binary_search_by_key(&key, |s| s.key) else {
            return Ok(None);
        };
        let turns = self.stretch(i, i + 1)?;
        Ok(turns
            .first()
            .map(|t| served(t, prices, false, |id| self.run_of(id))))
    }

    /// The live turns `keys` as a page serves them (for live updates).
    pub fn turns(&self, prices: &Prices, keys: &[u64]) -> Vec<Turn> {
        let Some(live) = self.live.as_ref() else {
            return Vec::new();
        };
        keys.iter()
            .filter(|&&k| k >= live.trusted)
            .filter_map(|&k| live.conv.get(k))
            .map(|t| served(t, prices, true, |id| self.run_of(id)))
            .collect()
    }

    /// Turns in the session, once every turn start is known (`None` while only its newest
    /// part was read).
    pub fn total(&self) -> Option<u64> {
        let live = self.live.as_ref()?;
        if self.scanned_from > 0 {
            return None;
        }
        let ts = live.conv.turns();
        let in_live = ts.len() - ts.partition_point(|t| t.index < live.trusted);
        Some((self.starts.len() + in_live) as u64)
    }
}
