{#- Small-cell suppression of the case outcomes (primary and secondary), all in SQL, built once
    as a table for every consumer.

    Cells are suppressed per base group (macros/case_outcomes.sql): the outcomes of a group rest
    on the same citizens in every cell, so one pattern serves them all, and no cell blanked in
    one outcome is published in another that shares its base.

    Primary: a cell resting on 1 to min_cell - 1 citizens is blanked.
    Secondary: each cell is a member of three equations (one per dimension: a margin 'all'
    equals the sum of the cells that differ from it only there). An equation with exactly one
    blanked member would give that member away as the difference of the others, so its
    smallest other member with citizens is blanked too; this repeats for a fixed number of
    rounds. suppression_round says in which round a cell was blanked (0 = primary); the test
    last_suppression_round_changed_nothing proves the last round found nothing left to do, and
    no_single_suppressed_cell proves the fixed point. Zero cells are never used: a zero gives
    nobody away. Cells of a too-young cohort publish nothing and take no part. -#}
{{ config(materialized='table') }}
{%- set rounds = 8 -%}
{%- set key = 'arrival_year, base_group, programme, sex, age_band' -%}

with cells as (
    select * from {{ ref('int_case_outcomes_aggregated') }}
),

members as (
    {{ suppression_equations('cells') }}
),

round_0 as (
    -- One state per base group and cell: the base its old-enough outcomes share.
    select
        {{ key }},
        max(base_citizens) as base_citizens,
        case when max(base_citizens) between 1 and {{ min_cell() - 1 }} then 0 end
            as suppression_round
    from cells
    where not is_cohort_too_young
    group by {{ key }}
),

{%- for round in range(1, rounds + 1) %}

equations_{{ round }} as (
    select members.*, state.base_citizens, state.suppression_round is not null as is_suppressed
    from members
    inner join round_{{ round - 1 }} as state using ({{ key }})
),

singles_{{ round }} as (
    select arrival_year, base_group, dimension, equation
    from equations_{{ round }}
    group by arrival_year, base_group, dimension, equation
    having count(*) >= 2 and count(*) filter (where is_suppressed) = 1
),

picks_{{ round }} as (
    select distinct {{ key }}
    from (
        select
            {{ key }},
            row_number() over (
                partition by arrival_year, base_group, dimension, equation
                order by base_citizens, programme, sex, age_band
            ) as pick_order
        from equations_{{ round }}
        where not is_suppressed and base_citizens > 0
            and (arrival_year, base_group, dimension, equation) in (
                select arrival_year, base_group, dimension, equation from singles_{{ round }}
            )
    ) as candidates
    where pick_order = 1
),

round_{{ round }} as (
    select
        state.{{ key | replace(', ', ', state.') }},
        state.base_citizens,
        coalesce(
            state.suppression_round,
            case when picks.base_group is not null then {{ round }} end
        ) as suppression_round
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
        cells.base_group,
        cells.window_days,
        case when state.suppression_round is null and not cells.is_cohort_too_young
            then cells.value end as value,
        case when state.suppression_round is null and not cells.is_cohort_too_young
            then cells.base_citizens end as base_citizens,
        coalesce(state.suppression_round is not null and not cells.is_cohort_too_young, false)
            as is_suppressed,
        case
            when cells.is_cohort_too_young then null
            when state.suppression_round = 0 then 'primary'
            when state.suppression_round > 0 then 'secondary'
        end as suppression_reason,
        case when not cells.is_cohort_too_young then state.suppression_round end
            as suppression_round,
        {{ rounds }} as suppression_rounds,
        cells.is_cohort_too_young,
        {{ min_cell() }} as min_cell,
        cells.as_of_date
    from cells
    left join round_{{ rounds }} as state using ({{ key }})
)

select * from suppressed
