"""A fake LLM for tests: langchain's fake chat model, remembering the prompts it was given."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel


class RecordingFakeModel(FakeListChatModel):
    """A fake chat model that answers `responses` in turn and remembers the prompts it was given."""

    prompts: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._call(messages, stop=stop, run_manager=run_manager, **kwargs)
