extension Dashboard {
    /// `/ui/assignments.js`: lists the store's partition assignment groups periodically and shows them (each
    /// member with what it holds and is planned, each partition with its state, owner and fence) in a card
    /// that stays hidden while the store has no group. Uses `state` and the helpers of `dashboard.js`.
    static let assignmentsScript = #"""
'use strict';
const ASSIGNMENTS = { refreshMs: 2000, groups: 50, partitionChips: 256 };
const assignmentsBusy = { running: false };

async function refreshAssignments() {
  if (!state.mux || assignmentsBusy.running) return;
  assignmentsBusy.running = true;
  try {
    const groups = await state.mux.collect(state.store, 'coordd://api/v1/assignment_list', { group: '', limit: ASSIGNMENTS.groups });
    renderAssignments(groups);
  } catch (error) {
    // A daemon without assignments, or a refused token: the card stays as it was.
  } finally {
    assignmentsBusy.running = false;
  }
}

function renderAssignments(groups) {
  $('assignments-card').hidden = groups.length === 0;
  $('assignments-count').textContent = groups.length;
  $('assignments').replaceChildren(...groups.map((group) => {
    const block = element('div', 'group');
    block.dataset.group = group.group;
    const present = group.members.filter((m) => m.present).length;
    block.append(element('h3', '', `${group.group}: ${group.partition_count} partitions, ${present} present`
      + (group.members.length > present ? `, ${group.members.length - present} absent` : '')));
    const table = element('table');
    const head = element('thead');
    head.append(row([['Member', ''], ['Weight', 'num'], ['Present', ''], ['Holding', 'num'], ['Target', 'num']]));
    const body = element('tbody');
    for (const member of group.members) {
      const tr = row([[member.member_id + (member.zone ? ` (zone ${member.zone})` : ''), 'mono'], [String(member.weight), 'num'],
        [member.present ? 'yes' : `back within ${duration(member.returns_by - Date.now())}`, ''],
        [String(member.holding), 'num'], [String(member.target), 'num']]);
      tr.dataset.member = member.member_id;
      body.append(tr);
    }
    table.append(head, body);
    const chips = element('p', 'partitions');
    for (const partition of group.partitions.slice(0, ASSIGNMENTS.partitionChips)) {
      const chip = element('span', `chip ${partition.state}`,
        `${partition.partition}${partition.owner ? ' → ' + partition.owner : ''}${partition.fence ? ' #' + partition.fence : ''}`);
      chip.title = partition.state + (partition.zone ? `, zone ${partition.zone}` : '')
        + (partition.unplaceable ? `, unplaceable: ${partition.unplaceable}` : '')
        + (partition.target ? `, moving to ${partition.target}` : '');
      chip.dataset.partition = partition.partition;
      chips.append(chip);
    }
    block.append(table, chips);
    return block;
  }));
}

setInterval(refreshAssignments, ASSIGNMENTS.refreshMs);
setTimeout(refreshAssignments, 500);
"""#

    /// The card `assignments.js` fills; hidden until the store has an assignment group.
    static let assignmentsCard = #"""
  <section class="card wide" id="assignments-card" hidden>
    <h2>Assignments <span class="count" id="assignments-count">0</span></h2>
    <div id="assignments"></div>
  </section>
"""#
}
