"""The automations of config/automations.yaml in Prefect: what wakes an operator.

`zhicheng serve` calls `ensure_automations`: one automation a name (created, or updated
in place when it exists: never a second one), each notifying through one webhook block
whose URL comes from the environment (config `notify_url_env`, ZHICHENG_NOTIFY_URL).
Without a URL the automations still fire (Prefect's UI shows them under Automations and
in the event feed) and send nothing.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from zhicheng.config import Config
from zhicheng.config.files import Automation

ATTENTION_EVENT = "zhicheng.{stage}.needs-attention"   # flows/attention.py emits it
FLOW_FAILED = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed")

# What the webhook receives: JSON an operator's chat bot or mail gateway can read.
ATTENTION_PAYLOAD = """{"automation": {{ automation.name | tojson }}, "event": {{ event.event | tojson }},
 "resource": {{ event.resource.id | tojson }}, "message": {{ event.payload.message | tojson }},
 "occurred": {{ event.occurred | string | tojson }}}"""
FAILED_PAYLOAD = """{"automation": {{ automation.name | tojson }}, "event": {{ event.event | tojson }},
 "flow_run": {{ flow_run.name | tojson }}, "state": {{ flow_run.state.name | tojson }},
 "message": {{ flow_run.state.message | tojson }}, "url": {{ flow_run | ui_url | tojson }}}"""


def ensure_automations(config: Config, env: Mapping[str, str] = os.environ) -> list[dict[str, Any]]:
    """Create or update every automation of the config; returns what was done to each."""
    from prefect.client.orchestration import get_client
    data = config.automations
    url = env.get(data.notify_url_env) or None
    block_id = _webhook_block(data.webhook_block, url)
    rows = []
    with get_client(sync_client=True) as client:
        for entry in data.automations:
            wanted = automation(entry, block_id)
            found = client.read_automations_by_name(entry.name)
            if found:
                client.update_automation(found[0].id, wanted)
                for extra in found[1:]:   # made by hand under the same name: one is enough
                    client.delete_automation(extra.id)
                done, auto_id = "updated", found[0].id
            else:
                done, auto_id = "created", client.create_automation(wanted)
            rows.append({"name": entry.name, "id": str(auto_id), "done": done,
                         "notifies": "webhook" if block_id else "none (no URL)"})
    return rows


def automation(entry: Automation, block_id: Any) -> Any:
    """The automation an entry of automations.yaml describes (pure apart from Prefect's
    models); its model holds exactly one of `attention` and `failed`."""
    from prefect.automations import AutomationCore, CallWebhook, DoNothing, EventTrigger, Posture
    on = entry.when
    if on.attention is not None:
        stage = on.attention
        trigger = EventTrigger(expect={ATTENTION_EVENT.format(stage=stage)},
                               match={"prefect.resource.id": f"zhicheng.{stage}.*"},
                               posture=Posture.Reactive, threshold=1, within=timedelta(0))
        payload = ATTENTION_PAYLOAD
    else:
        assert on.failed is not None, "the model holds exactly one of attention and failed"
        trigger = EventTrigger(expect=set(FLOW_FAILED), match={"prefect.resource.id": "prefect.flow-run.*"},
                               match_related={"prefect.resource.role": "flow",
                                              "prefect.resource.name": on.failed},
                               posture=Posture.Reactive, threshold=1, within=timedelta(0))
        payload = FAILED_PAYLOAD
    action = CallWebhook(block_document_id=block_id, payload=payload) if block_id else DoNothing()
    return AutomationCore(name=entry.name, description=entry.description, enabled=True,
                          trigger=trigger, actions=[action])


def _webhook_block(name: str, url: str | None) -> Any:
    """The webhook block the automations call, saved with today's URL (None: no URL)."""
    if not url:
        return None
    from prefect.blocks.webhook import Webhook
    from prefect.types import SecretDict
    from pydantic import SecretStr
    return Webhook(method="POST", url=SecretStr(url),
                   headers=SecretDict({"Content-Type": "application/json"})).save(name, overwrite=True)
