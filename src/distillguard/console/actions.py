"""Analyst actions: confirm or dismiss a flag, pin a tier, ban, unban. Each one is audited.

Labels go to the console's LabelStore (exported for `distillguard calibrate`); tiers and
bans go to the enforcement overrides store the gateway reads (`enforce/overrides.py`), so
a ban from the console takes effect at the edge within the store's refresh interval.
"""

from __future__ import annotations

from collections.abc import Callable

from distillguard.console.auth import User
from distillguard.console.labels import Label, LabelStore
from distillguard.enforce.overrides import Override, OverrideStore, make_override

BAN_ACTIONS = ("block",)


class ActionError(ValueError):
    """Refused: not allowed for this user, or bad input. The message is shown to the analyst."""


class Actions:
    def __init__(
        self,
        labels: LabelStore,
        overrides: OverrideStore | None,
        org_of: Callable[[str], str],
    ) -> None:
        self.labels = labels
        self.overrides = overrides
        self.org_of = org_of

    def _check(self, user: User, account_ids: list[str]) -> None:
        if not user.can_act:
            raise ActionError(f"{user.username} is a viewer: read-only")
        if not account_ids:
            raise ActionError("no account to act on")
        if user.org_id is not None:
            outside = [a for a in account_ids if self.org_of(a) != user.org_id]
            if outside:
                raise ActionError("not in your org")

    def _overrides(self) -> OverrideStore:
        if self.overrides is None:
            raise ActionError("no overrides store configured: tiers and bans are unavailable")
        return self.overrides

    def label(
        self,
        user: User,
        account_ids: list[str],
        label: Label,
        *,
        campaign_id: str | None = None,
        note: str = "",
    ) -> None:
        """Confirm (label "attack") or dismiss (label "legit") the flag on these accounts."""
        self._check(user, account_ids)
        self.labels.set_labels(account_ids, label, by=user.username, campaign_id=campaign_id, note=note)
        action = "confirm" if label == "attack" else "dismiss"
        if campaign_id is not None:
            self.labels.audit(
                user.username,
                action,
                "campaign",
                campaign_id,
                org_id=user.org_id,
                detail=f"{len(account_ids)} accounts labelled {label}. {note}".strip(),
            )
        for account_id in account_ids:
            self.labels.audit(
                user.username,
                action,
                "account",
                account_id,
                org_id=self.org_of(account_id),
                detail=f"labelled {label}"
                + (f" (campaign {campaign_id})" if campaign_id else "")
                + (f": {note}" if note else ""),
            )

    def set_tier(self, user: User, account_id: str, tier: str, *, note: str = "") -> Override:
        self._check(user, [account_id])
        try:
            override = make_override(
                "account", account_id, tier=tier, note=f"console {user.username}: {note}".strip()
            )
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        self._overrides().set(override)
        self.labels.audit(
            user.username,
            "set_tier",
            "account",
            account_id,
            org_id=self.org_of(account_id),
            detail=f"override tier {tier.upper()}" + (f": {note}" if note else ""),
        )
        return override

    def ban(
        self, user: User, account_ids: list[str], *, note: str = "", campaign_id: str | None = None
    ) -> None:
        self._check(user, account_ids)
        store = self._overrides()
        for account_id in account_ids:
            store.set(
                make_override(
                    "account",
                    account_id,
                    actions=BAN_ACTIONS,
                    note=f"console {user.username}: {note}".strip(),
                )
            )
            self.labels.audit(
                user.username,
                "ban",
                "account",
                account_id,
                org_id=self.org_of(account_id),
                detail=(
                    "banned"
                    + (f" with campaign {campaign_id}" if campaign_id else "")
                    + (f": {note}" if note else "")
                ),
            )

    def unban(self, user: User, account_id: str, *, note: str = "") -> bool:
        """Remove the account's override (a ban or a pinned tier): the detector decides again."""
        self._check(user, [account_id])
        cleared = self._overrides().clear("account", account_id)
        self.labels.audit(
            user.username,
            "unban",
            "account",
            account_id,
            org_id=self.org_of(account_id),
            detail=("override removed" if cleared else "no override to remove")
            + (f": {note}" if note else ""),
        )
        return cleared

    def override_of(self, account_id: str) -> Override | None:
        return self.overrides.get("account", account_id) if self.overrides is not None else None
