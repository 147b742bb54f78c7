{#- Small-cell suppression of the case outcomes (primary and secondary), all in SQL.

    Primary: a value or count resting on 1 to min_cell - 1 citizens is blanked.
    Secondary: each cell is a member of three equations (one per dimension: a margin 'all'
    equals the sum of the cells that differ from it only there). An equation with exactly one
    blanked member would give that member away as the difference of the others, so its
    smallest other member with citizens is blanked too; this repeats until no equation has a
    single blank (a fixed number of rounds; the test no_single_suppressed_cell proves the
    fixed point on every build). Zero cells are never used: a zero gives nobody away.
    Cells of a too-young cohort publish nothing and take no part. -#}
{%- set rounds = 8 -%}
{%- set key = 'arrival_year, outcome_code, programme, sex, age_band' -%}

with cells as (
    select * from {{ ref('int_case_outcomes_aggregated') }}
),

members as (
    {{ suppression_equations('cells') }}
),

round_0 as (
    select
        {{ key }},
        base_citizens,
        not is_cohort_too_young
            and base_citizens between 1 and {{ min_cell() - 1 }} as is_primary,
        not is_cohort_too_young
            and base_citizens between 1 and {{ min_cell() - 1 }} as is_suppressed
    from cells
),

{%- for round in range(1, rounds + 1) %}

equations_{{ round }} as (
    select members.*, state.base_citizens, state.is_suppressed
    from members
    inner join round_{{ round - 1 }} as state using ({{ key }})
),

singles_{{ round }} as (
    select arrival_year, outcome_code, dimension, equation
    from equations_{{ round }}
    group by arrival_year, outcome_code, dimension, equation
    having count(*) >= 2 and count(*) filter (where is_suppressed) = 1
),

picks_{{ round }} as (
    select distinct {{ key }}
    from equations_{{ round }}
    semi join singles_{{ round }} using (arrival_year, outcome_code, dimension, equation)
    where not is_suppressed and base_citizens > 0
    qualify row_number() over (
        partition by arrival_year, outcome_code, dimension, equation
        order by base_citizens, programme, sex, age_band
    ) = 1
),

round_{{ round }} as (
    select
        state.{{ key | replace(', ', ', state.') }},
        state.base_citizens,
        state.is_primary,
        state.is_suppressed or picks.outcome_code is not null as is_suppressed
    from round_{{ round - 1 }} as state
    left join picks_{{ round }} as picks using ({{ key }})
),
{%- endfor %}

suppressed as (
    select
        cells.arrival_year,
        cells.programme,
        cells.sex,
        cells.age_band,
        cells.outcome_code,
        cells.unit,
        cells.window_days,
        case when not state.is_suppressed and not cells.is_cohort_too_young
            then cells.value end as value,
        case when not state.is_suppressed and not cells.is_cohort_too_young
            then cells.base_citizens end as base_citizens,
        state.is_suppressed,
        case
            when state.is_primary then 'primary'
            when state.is_suppressed then 'secondary'
        end as suppression_reason,
        cells.is_cohort_too_young,
        {{ min_cell() }} as min_cell,
        cells.as_of_date
    from cells
    inner join round_{{ rounds }} as state using ({{ key }})
)

select * from suppressed
