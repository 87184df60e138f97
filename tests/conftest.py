"""Named personas shared by the whole suite."""

import pytest
from django.core.cache import cache

from accounts.models import User
from pipeline.defaults import create_default_lost_reasons, create_default_pipeline
from pipeline.models import LostReason, Pipeline, Stage
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="East")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="West")


@pytest.fixture
def rep(team):
    return UserFactory(username="rita", first_name="Rita", last_name="Rep", team=team)


@pytest.fixture
def other_rep(team):
    """A rep in the same team as ``rep``."""
    return UserFactory(username="oscar", first_name="Oscar", last_name="Other", team=team)


@pytest.fixture
def outsider(other_team):
    """A rep in another team."""
    return UserFactory(username="olga", first_name="Olga", last_name="Outsider", team=other_team)


@pytest.fixture
def manager(team):
    return UserFactory(
        username="max", first_name="Max", last_name="Manager", team=team, role=User.Role.MANAGER
    )


@pytest.fixture
def rep_client(client, rep):
    """The test client, signed in as ``rep``."""
    client.force_login(rep)
    return client


@pytest.fixture
def admin(db):
    return UserFactory(
        username="ada", first_name="Ada", last_name="Admin", team=None, role=User.Role.ADMIN
    )


@pytest.fixture(autouse=True)
def empty_cache():
    """Rendered boards are cached; every test starts without another test's cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def migration_data(request):
    """What the data migrations create, restored after tests that flush the database
    (transactional tests and the live server of browser tests empty every table)."""
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        request.getfixturevalue("db" if "db" in request.fixturenames else "transactional_db")
        create_default_pipeline(Pipeline, Stage)
        create_default_lost_reasons(LostReason)


@pytest.fixture
def default_pipeline(db):
    """The pipeline the data migration creates, with its six stages."""
    return create_default_pipeline(Pipeline, Stage)


@pytest.fixture
def stages(default_pipeline):
    return list(default_pipeline.stages.order_by("position"))


@pytest.fixture
def by_name(stages):
    """The default pipeline's stages by name."""
    return {stage.name: stage for stage in stages}
