{#- Secondary suppression holds: for no outcome does an equation (a margin and the cells that
    add up to it) have exactly one suppressed member, so no blanked cell is the difference of
    published ones. -#}
{% test no_single_suppressed_cell(model) %}
with members as (
    {{ suppression_equations(model, by='outcome_code') }}
),

states as (
    select members.*, cells.is_suppressed
    from members
    inner join {{ model }} as cells
        using (arrival_year, outcome_code, programme, sex, age_band)
)

select arrival_year, outcome_code, dimension, equation, count(*) as members
from states
group by arrival_year, outcome_code, dimension, equation
having count(*) >= 2 and count(*) filter (where is_suppressed) = 1
{% endtest %}
