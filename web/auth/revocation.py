"""Open websockets end when their session does (SPEC §11; issue 14 item 1).

A session is checked at the websocket handshake, but a socket lives for a shift: the user
may be disabled, change password, log out in another tab or get another role meanwhile.
:class:`SessionGuard` is the one owner of "which open socket belongs to which session":

- the handlers register each socket with a ``revoke`` callback (the socket's link closes
  with 1008 and the pt-BR reason the page shows);
- code paths of this process that end sessions (logout) call :meth:`revoke_session` /
  :meth:`revoke_user`, which close at once;
- another process (``cobra user disable`` in a terminal, a second ``cobra serve``) only
  changes the database, so a sweeper task re-reads the state of every watched session in
  one indexed query every ``sweep_s`` (0.5 s): a socket of an ended session closes within
  a second whoever ended it. One query per sweep, whatever the number of sockets, rather
  than one per socket per second; and nothing is read while no socket is open;
- every action a socket carries asks :meth:`SessionGuard.allows`: in memory when the
  session was confirmed less than ``recheck_s`` ago (the sweeper keeps that fresh), else a
  read of that one session first; actions that store something (a disposition, a discount
  decision) always read it, so nothing is stored for a session ended a moment before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import Clock
from storage.models import Role
from web.auth.sessions import CurrentLogin, SessionState, session_states, users_active

log = logging.getLogger(__name__)

# websocket close code "policy violation": the page must not reconnect (RFC 6455 §7.4.1)
CLOSE_REVOKED = 1008
SWEEP_S = 0.5
RECHECK_S = 1.0
STOP_TIMEOUT_S = 5.0

# Close reasons must fit the 123 bytes a close frame allows (UTF-8: accents take two)
REASON_LOGOUT = "Você saiu do Cobra. Entre de novo para continuar."
REASON_ENDED = "Sua sessão foi encerrada (saída, nova senha ou perfil alterado). Entre de novo."
REASON_DISABLED = "Seu acesso foi desativado pelo administrador."
REASON_EXPIRED = "Sua sessão expirou. Entre de novo."
REASON_ROLE = "Seu perfil de acesso mudou. Entre de novo."


def _fits(reason: str) -> str:
    raw = reason.encode("utf-8")[:123]
    return raw.decode("utf-8", errors="ignore")


@dataclass(eq=False)
class Watch:
    """One open socket under watch: whose session it is and how to close it."""

    user_id: int
    session_hash: str
    role: Role
    revoke: Callable[[str], None]
    checked_at: float = 0.0  # loop time of the last confirmation from the database
    revoked: str | None = None  # the reason, once revoked

    def end(self, reason: str) -> None:
        if self.revoked is not None:
            return
        self.revoked = _fits(reason)
        try:
            self.revoke(self.revoked)
        except Exception:  # one broken socket must not keep the others open
            log.exception("closing the socket of user %s failed", self.user_id)


def verdict(watch: Watch, state: SessionState | None, now_expired: bool) -> str | None:
    """Why ``watch`` must close given the stored ``state`` of its session, or None if it may stay."""
    if state is None:
        return REASON_ENDED
    if not state.active:
        return REASON_DISABLED
    if now_expired:
        return REASON_EXPIRED
    if state.role is not watch.role or state.user_id != watch.user_id:
        return REASON_ROLE
    return None


@dataclass
class SessionGuard:
    """Watches the sessions behind open sockets and closes the sockets whose session ended."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    sweep_s: float = SWEEP_S
    recheck_s: float = RECHECK_S
    _watches: set[Watch] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------ sockets

    def watch(self, login: CurrentLogin, revoke: Callable[[str], None]) -> Watch:
        """Put a socket opened by ``login`` under watch (its session was just checked by the handshake)."""
        w = Watch(login.user_id, login.session_hash, login.role, revoke, checked_at=_loop_time())
        self._watches.add(w)
        self._wake.set()
        return w

    def unwatch(self, w: Watch) -> None:
        self._watches.discard(w)

    def watched(self, user_id: int | None = None) -> int:
        return sum(1 for w in self._watches if user_id is None or w.user_id == user_id)

    # ------------------------------------------------------------------ this process ends sessions

    def revoke_session(self, session_hash: str, reason: str = REASON_ENDED) -> int:
        """Close every socket of one session now; how many were closed."""
        hit = [w for w in self._watches if w.session_hash == session_hash]
        for w in hit:
            w.end(reason)
        return len(hit)

    def revoke_user(self, user_id: int, reason: str = REASON_ENDED) -> int:
        """Close every socket of ``user_id`` now (all their sessions); how many were closed."""
        hit = [w for w in self._watches if w.user_id == user_id]
        for w in hit:
            w.end(reason)
        return len(hit)

    # ------------------------------------------------------------------ checks

    async def allows(self, w: Watch, *, fresh: bool = False) -> bool:
        """May the socket under ``w`` carry one more action? Reads the database when the last
        confirmation is older than ``recheck_s`` or ``fresh`` is asked (actions that store
        something: a disposition, an approval); closes the socket when the answer is no."""
        if w.revoked is not None:
            return False
        if not fresh and _loop_time() - w.checked_at < self.recheck_s:
            return True
        await self._check([w])
        return w.revoked is None

    async def sweep(self) -> None:
        """Re-read the state of every watched session and close the sockets of those that ended."""
        await self._check([w for w in self._watches if w.revoked is None])

    async def _check(self, watches: list[Watch]) -> None:
        if not watches:
            return
        started = _loop_time()
        async with self.sessions() as db:
            states = await session_states(db, {w.session_hash for w in watches})
            gone = {w.user_id for w in watches if w.session_hash not in states}
            # a session that is gone: say "disabled" when that is why (a second read, only then)
            active = await users_active(db, gone) if gone else {}
            await db.commit()  # end the transaction now (a write session would hold SQLite's write lock)
        now = self.clock()
        for w in watches:
            state = states.get(w.session_hash)
            why = verdict(w, state, state is not None and state.expires_at <= now)
            if state is None and not active.get(w.user_id, False):
                why = REASON_DISABLED
            if why is None:
                w.checked_at = started
            else:
                log.info("user %s: session ended (%s); closing their socket", w.user_id, why)
                w.end(why)
                self._watches.discard(w)

    # ------------------------------------------------------------------ the sweeper task

    async def run(self) -> None:
        """Sweep every ``sweep_s`` while sockets are open; sleep while none are; end when stopped."""
        while not self._stop.is_set():
            if not self._watches:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self.sweep()
            except (SQLAlchemyError, OSError) as exc:  # a locked or unreachable database: try again next sweep
                log.warning("session sweep failed: %s", getattr(exc, "orig", None) or exc)
            except Exception:  # never let one bad sweep end the watch for the rest of the run
                log.exception("session sweep failed")
            try:
                await asyncio.wait_for(self._stop.wait(), self.sweep_s)
            except TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="session-guard")

    async def stop(self) -> None:
        """End the sweeper between sweeps (a query cancelled midway can leave its connection
        unclosed); cancelled only if a sweep hangs past ``STOP_TIMEOUT_S``."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_S)
        except TimeoutError:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


__all__ = [
    "CLOSE_REVOKED",
    "REASON_DISABLED",
    "REASON_ENDED",
    "REASON_EXPIRED",
    "REASON_LOGOUT",
    "REASON_ROLE",
    "SessionGuard",
    "Watch",
    "verdict",
]
