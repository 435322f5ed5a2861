//! Analysis: which locals each state of the machine carries.
//!
//! A local belongs in a state if the block of that state, or a block after
//! it, still reads it: the classic backward liveness analysis over the
//! blocks, iterated to a fixed point. Those locals live across a wait, so they
//! become fields, and corofy checks here that it can write them as fields: it
//! knows their types, and they do not borrow another field.

use crate::Error;
use crate::model::{BlockId, LocalId, Machine};
use crate::types::has_anonymous_reference;
use std::collections::{BTreeMap, BTreeSet};

/// The locals each block's state carries, in declaration order.
#[derive(Debug)]
pub(crate) struct Liveness(Vec<BTreeSet<LocalId>>);

impl Liveness {
    pub fn fields(&self, block: BlockId) -> &BTreeSet<LocalId> {
        &self.0[block.0]
    }
}

/// Drops the blocks nothing reaches, then finds and checks every state's fields.
pub(crate) fn analyse(machine: &mut Machine) -> Result<Liveness, Error> {
    prune_unreachable(machine);
    let live = Liveness(live_in(machine));
    check_fields(machine, &live)?;
    Ok(live)
}

/// A block nothing moves to (after a `loop` left only by `return`, say) is
/// emptied and gets no state: its code may not even type-check, as in Rust,
/// where the code after such a loop is unreachable.
fn prune_unreachable(machine: &mut Machine) {
    let mut reachable = BTreeSet::from([BlockId::START]);
    let mut stack = vec![BlockId::START];
    while let Some(b) = stack.pop() {
        for &s in &machine.block(b).succs {
            if reachable.insert(s) {
                stack.push(s);
            }
        }
    }
    for id in machine.block_ids() {
        if !reachable.contains(&id) {
            let block = machine.block_mut(id);
            block.code.clear();
            block.succs.clear();
            block.refs.clear();
            block.reachable = false;
        }
    }
}

/// live_in of every block: the locals its code, or a block after it, reads
/// before declaring them again.
fn live_in(machine: &Machine) -> Vec<BTreeSet<LocalId>> {
    let n = machine.blocks.len();
    let mut defs = vec![BTreeSet::new(); n];
    for (i, local) in machine.locals.iter().enumerate() {
        let id = LocalId(i);
        // Arguments are declared by the function, before the machine starts.
        if !(local.block == BlockId::START && machine.is_arg(id)) {
            defs[local.block.0].insert(id);
        }
    }
    let uses: Vec<BTreeSet<LocalId>> = machine
        .blocks
        .iter()
        .zip(&defs)
        .map(|(block, defs)| block.refs.difference(defs).copied().collect())
        .collect();
    let mut live = uses.clone();
    loop {
        let mut changed = false;
        for b in (0..n).rev() {
            let out: BTreeSet<LocalId> = machine.blocks[b]
                .succs
                .iter()
                .flat_map(|s| live[s.0].iter().copied())
                .collect();
            let mut new = uses[b].clone();
            new.extend(out.difference(&defs[b]).copied());
            if new != live[b] {
                live[b] = new;
                changed = true;
            }
        }
        if !changed {
            return live;
        }
    }
}

/// Every field of every state after the start must be storable.
fn check_fields(machine: &Machine, live: &Liveness) -> Result<(), Error> {
    for id in machine.block_ids().skip(1) {
        let mut names = BTreeMap::new();
        for &field in live.fields(id) {
            let local = machine.local(field);
            let name = &local.name;
            if let Some(span) = local.borrow {
                return Err(Error::at(span, format!(
                    "`{name}` borrows a local and is still in use after a `.wait`"))
                    .help("across a wait, both would become fields of the state machine, and a \
                           field cannot hold a reference to another field of the same value \
                           (chapter 3 shows why); keep an owned value instead (clone it, or \
                           store an index), or finish using the borrow before the `.wait`"));
            }
            match &local.ty {
                None => {
                    return Err(Error::at(name.span(), format!(
                        "`{name}` is used after a `.wait`, so it becomes a field of the state machine, \
                         but corofy cannot tell its type"))
                    .help(format!("write its type where it is declared: `let {name}: Type = ...;`")));
                }
                Some(ty)
                    if has_anonymous_reference(ty) && !machine.is_arg(field) =>
                {
                    return Err(Error::at(name.span(), format!(
                        "`{name}` holds a reference and is still in use after a `.wait`"))
                        .help("across a wait it becomes a field of the state machine, and a reference \
                               stored there would need a named lifetime (or would point into the \
                               machine itself: chapter 3); keep an owned value instead"));
                }
                Some(_) => {}
            }
            if names.insert(name.to_string(), field).is_some() {
                return Err(Error::at(name.span(), format!(
                    "two locals named `{name}` are both in use across the same `.wait`"))
                    .help("rename one of them"));
            }
        }
    }
    Ok(())
}
