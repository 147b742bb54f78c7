{#- The suppression rounds reached their fixed point: the last round blanked no cell, so more
    rounds would not have blanked any either (with no_single_suppressed_cell). -#}
{% test last_suppression_round_changed_nothing(model) %}
select *
from {{ model }}
where suppression_round >= suppression_rounds
{% endtest %}
