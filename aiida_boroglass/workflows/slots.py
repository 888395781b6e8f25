"""Keep ``max_concurrent`` children running: launch the next one as soon as any child ends.

A WorkChain waits for *all* the children a step put in its context before it runs the next
step, so launching in fixed batches leaves slots idle while the slowest child of a batch
runs (with glasses of uneven cost, most of the time). :class:`BusySlotsMixin` changes one
thing: the workflow also wakes up when *one* child ends while others are queued, and its
step :meth:`~BusySlotsMixin.fill_slots` launches into the free slots and waits again on every
child still running. This is the pattern of aiida-submission-controller, kept inside one
workflow so that the children stay in its provenance.

A workflow using it plans ``self.ctx.slot_queue`` (keys to launch, in order), defines
:meth:`launch_child` and :meth:`child_ended`, and loops
``while_(cls.slots_busy)(cls.fill_slots)``; ``self.ctx.slot_children`` maps each launched key
to its process's pk. Launches go through
:func:`~aiida_boroglass.workflows.launch.submit_once`, so a worker restart launches nothing twice.
"""
from __future__ import annotations

from aiida import orm
from plumpy.process_states import ProcessState


class BusySlotsMixin:
    """Launch queued children into free slots whenever one ends (mix in before ``WorkChain``).

    The workflow needs a ``max_concurrent`` input (``Int``).
    """

    def setup_slots(self, keys) -> None:
        """Queue ``keys`` (str, unique, used as call-link labels) for launching, in order."""
        self.ctx.slot_queue = list(keys)
        self.ctx.slot_children = {}
        self.ctx.slot_ended = []

    def launch_child(self, key: str) -> orm.ProcessNode:
        """Launch the child of ``key`` (with :func:`submit_once`) and return its node."""
        raise NotImplementedError

    def child_ended(self, key: str, node: orm.ProcessNode) -> None:
        """Called once per child, in the order the children are seen to end."""
        raise NotImplementedError

    def slots_busy(self) -> bool:
        """Whether children are left to launch or to see end."""
        return bool(self.ctx.slot_queue) or len(self.ctx.slot_ended) < len(self.ctx.slot_children)

    def fill_slots(self):
        """Hand the children that ended to :meth:`child_ended`, launch into the free slots, wait on the rest."""
        running = []
        for key, pk in self.ctx.slot_children.items():
            if key in self.ctx.slot_ended:
                continue
            node = orm.load_node(pk)
            if node.is_terminated:
                self.ctx.slot_ended.append(key)
                self.child_ended(key, node)
            else:
                running.append(key)
        while self.ctx.slot_queue and len(running) < self.inputs.max_concurrent.value:
            key = self.ctx.slot_queue.pop(0)
            self.ctx.slot_children[key] = self.launch_child(key).pk
            running.append(key)
        self.to_context(**{f'slot_{key}': orm.load_node(self.ctx.slot_children[key]) for key in running})

    def _on_awaitable_finished(self, awaitable) -> None:
        """Resolve a child that ended; wake the workflow when all have, or when one has and others are queued.

        Overrides aiida-core's ``WorkChain._on_awaitable_finished`` (2.x), which wakes it only when
        all have. A child still running when the workflow wakes is waited on again by the next
        :meth:`fill_slots`, which registers a second callback for it: whichever fires first
        resolves it, the other finds it resolved and does nothing.
        """
        current = next((item for item in self._awaitables if item.pk == awaitable.pk), None)
        if current is None:
            return
        self._resolve_awaitable(current, orm.load_node(current.pk))
        if self.state == ProcessState.WAITING and (not self._awaitables or self.ctx.slot_queue):
            self.resume()
