from django.urls import path

from pipeline.views import activities, board, deals, notifications, people, settings

urlpatterns = [
    path(
        "settings/users/<int:user_id>/deactivate",
        people.user_deactivate,
        name="settings_user_deactivate",
    ),
    path("settings/pipelines/", settings.pipelines, name="settings_pipelines"),
    path("settings/pipelines/new", settings.pipeline_add, name="settings_pipeline_add"),
    path("settings/pipelines/<int:pipeline_id>/", settings.stages, name="settings_stages"),
    path(
        "settings/pipelines/<int:pipeline_id>/rename",
        settings.pipeline_rename,
        name="settings_pipeline_rename",
    ),
    path(
        "settings/pipelines/<int:pipeline_id>/archive",
        settings.pipeline_archive,
        name="settings_pipeline_archive",
    ),
    path(
        "settings/pipelines/<int:pipeline_id>/<str:direction>",
        settings.pipeline_step,
        name="settings_pipeline_step",
    ),
    path(
        "settings/pipelines/<int:pipeline_id>/stages/new",
        settings.stage_add,
        name="settings_stage_add",
    ),
    path(
        "settings/pipelines/<int:pipeline_id>/stages/order",
        settings.stage_order,
        name="settings_stage_order",
    ),
    path("settings/stages/<int:stage_id>/", settings.stage_edit, name="settings_stage_edit"),
    path(
        "settings/stages/<int:stage_id>/remove",
        settings.stage_remove,
        name="settings_stage_remove",
    ),
    path(
        "settings/stages/<int:stage_id>/<str:direction>",
        settings.stage_step,
        name="settings_stage_step",
    ),
    path("", board.home, name="home"),
    path("pipelines/<int:pipeline_id>/", board.board, name="board"),
    path("pipelines/<int:pipeline_id>/changes", board.board_changes, name="board_changes"),
    path(
        "pipelines/<int:pipeline_id>/stages/<int:stage_id>/cards",
        board.column_more,
        name="column_more",
    ),
    path(
        "pipelines/<int:pipeline_id>/stages/<int:stage_id>/deals/new",
        board.deal_quick_add,
        name="deal_quick_add",
    ),
    path("pipelines/<int:pipeline_id>/won/", deals.deals_won, name="deals_won"),
    path("pipelines/<int:pipeline_id>/lost/", deals.deals_lost, name="deals_lost"),
    path("deals/<int:deal_id>/", deals.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/move", board.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/edit", deals.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/activities/new", deals.activity_add, name="activity_add"),
    path(
        "activities/<int:activity_id>/complete", deals.activity_complete, name="activity_complete"
    ),
    path("activities/", activities.my_activities, name="my_activities"),
    path("deals/<int:deal_id>/activities/plan", activities.activity_plan, name="activity_plan"),
    path("activities/<int:activity_id>/edit", activities.activity_edit, name="activity_edit"),
    path("activities/<int:activity_id>/delete", activities.activity_delete, name="activity_delete"),
    path(
        "contacts/<int:contact_id>/activities",
        activities.contact_activities,
        name="contact_activities",
    ),
    path(
        "contacts/<int:contact_id>/activities/new",
        activities.contact_activity_add,
        name="contact_activity_add",
    ),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/badge", notifications.notifications_badge, name="notifications_badge"),
    path("notifications/read", notifications.notifications_read_all, name="notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read",
        notifications.notification_read,
        name="notification_read",
    ),
]
