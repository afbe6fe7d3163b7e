"""A model's approval policy for production changes (`registered_model.approval_by`), as one
pure decision: may this actor make this production change now?

- "" (none): the role table alone decides (store/roles.py).
- "owner": a direct promotion to production is made by the model's owner or an admin;
  anyone else requests an approval, which only the owner or an admin may approve.
- "operator": every production change goes through an approval request that an operator
  or an admin approves, and never the one who asked for it (four eyes); a direct
  promotion to production is refused, whoever asks, with the advice to request one.

Rolling production back is never asked about: the way back to the known-good version
must work at 3am without waiting for anyone. The policy narrows who may promote or
approve; it never grants a permission the role table does not give.
"""

from __future__ import annotations

from store.vocabulary import ApprovalBy, Role

_OPERATORS = frozenset({Role.OPERATOR, Role.ADMIN})


def decide(approval_by: str, owner: str, actor_account: str, actor_role: Role | str | None,
           requested_by: str = "", via_approval: bool = False, *,
           model: str = "the model") -> str | None:
    """None when the change may go ahead, else why not (the words of the refusal).

    `actor_account`: who acts (the OS account, or "token:NAME" for a token);
    `requested_by`: who asked for the approval being decided (same form; "" unknown);
    `via_approval`: the change is an approval of a pending request, not a direct promote.
    """
    policy = ApprovalBy(approval_by or "")
    if policy is ApprovalBy.NONE:
        return None
    role = Role(actor_role) if actor_role else None
    if policy is ApprovalBy.OWNER:
        if role is Role.ADMIN or (owner and actor_account == owner):
            return None
        who = f"its owner {owner}" if owner else "its owner (it has none: hand it to one)"
        if via_approval:
            return (f"approval policy: production changes of {model} are approved by {who} "
                    f"or an admin; {actor_account} is neither")
        return (f"approval policy: production changes of {model} need its owner's approval; "
                f"{actor_account} is not {who}: request an approval of the version instead, "
                f"and {who} or an admin approves it")
    if not via_approval:
        return (f"approval policy: production changes of {model} go through an approval an "
                f"operator approves (four eyes); a direct promotion to production is refused, "
                f"whoever asks: request an approval of the version instead")
    if role not in _OPERATORS:
        return (f"approval policy: approvals of {model} are decided by an operator or an admin; "
                f"{actor_account} is {('a ' + str(role)) if role else 'not a user of the store'}")
    if requested_by and requested_by == actor_account:
        return (f"approval policy (four eyes): {actor_account} requested this approval of "
                f"{model} and may not approve it too; another operator or an admin approves it")
    return None
