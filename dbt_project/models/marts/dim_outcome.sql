{#- The case outcomes: labels, unit, observation window and base group, from case_outcomes()
    (macros/case_outcomes.sql, where their definitions live) and the labels seed. -#}
with outcomes as (
    {%- for outcome in case_outcomes() %}
    select
        '{{ outcome.code }}' as outcome_code,
        '{{ outcome.unit }}' as unit,
        '{{ outcome.kind }}' as kind,
        {{ outcome.window_days if outcome.window_days is not none else 'null' }}::integer
            as window_days,
        '{{ outcome.base_group }}' as base_group,
        {{ loop.index }} as sort_order
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

labels as (
    select * from {{ ref('stg_reference__code_labels') }} where dimension = 'outcome'
)

select
    outcomes.outcome_code::varchar as outcome_code,
    labels.label_da,
    labels.label_en,
    labels.description,
    outcomes.unit::varchar as unit,
    outcomes.kind::varchar as kind,
    outcomes.window_days,
    case
        when outcomes.window_days is null then 'No window: counted whenever it happened.'
        when outcomes.outcome_code like 'danish_exam%'
            then 'Within ' || outcomes.window_days || ' days of starting Danish education; a cohort is too young until 31 December of its arrival year plus the window has passed.'
        else 'Within ' || outcomes.window_days || ' days of arrival; a cohort is too young until 31 December of its arrival year plus the window has passed.'
    end as window_explained,
    outcomes.base_group::varchar as base_group,
    outcomes.sort_order
from outcomes
left join labels on labels.code = outcomes.outcome_code
