{#- Small-cell suppression of the case outcomes (primary and secondary), all in SQL, built once
    as a table for every consumer.

    Cells are suppressed per base group (macros/case_outcomes.sql): the outcomes of a group rest
    on the same citizens in every cell, so one pattern serves them all, and no cell blanked in
    one outcome is published in another that shares its base.

    Primary: a cell resting on 1 to min_cell - 1 citizens is blanked.
    Secondary: every primary cell is made a corner of a cube of blanks: two values in each
    dimension (a margin 'all' may be one of them), eight cells, all blanked. Every equation
    (a margin equals the sum of the cells that differ from it only in one dimension) meets such
    a cube in none or two of its corners, so adding +d and -d around the cube, with the same sign
    on a margin and its part, keeps every equation true: no corner follows from the published
    cells, however the equations are combined (checking each equation alone is not enough: two
    equations can share the same two blanks). Of the cubes through a primary cell, the one with
    the fewest citizens newly blanked is taken. Zero cells are never used: a zero gives nobody
    away. A dimension with no value but its margin (only in unit tests) spans no equation and
    takes one value. Cells of a too-young cohort publish nothing and take no part. -#}
{{ config(materialized='table') }}
{%- set key = 'arrival_year, base_group, programme, sex, age_band' -%}
{%- set dimensions = cell_dimensions() -%}

with cells as (
    select * from {{ ref('int_case_outcomes_aggregated') }}
),

states as (
    -- One state per base group and cell: the base its old-enough outcomes share.
    select
        {{ key }},
        max(base_citizens) as base_citizens,
        max(base_citizens) between 1 and {{ min_cell() - 1 }} as is_primary
    from cells
    where not is_cohort_too_young
    group by {{ key }}
),

candidates as (
    -- The cells that can be a cube's corner: those with citizens.
    select * from states where base_citizens > 0
),
{%- for dimension in dimensions %}

along_{{ dimension }} as (
    -- The second values a primary cell's cube can take in this dimension: those of the cells
    -- that differ from it only there and have citizens (or its own value, where the dimension
    -- has no value but its margin).
    select blank.{{ key | replace(', ', ', blank.') }}, other.{{ dimension }} as {{ dimension }}_2
    from candidates as blank
    inner join candidates as other
        on other.arrival_year = blank.arrival_year
        and other.base_group = blank.base_group
        {%- for fixed in dimensions if fixed != dimension %}
        and other.{{ fixed }} = blank.{{ fixed }}
        {%- endfor %}
    where blank.is_primary
        and (other.{{ dimension }} <> blank.{{ dimension }} or not exists (
            select 1 from candidates as elsewhere
            where elsewhere.arrival_year = blank.arrival_year
                and elsewhere.base_group = blank.base_group
                and elsewhere.{{ dimension }} <> blank.{{ dimension }}))
),
{%- endfor %}

cubes as (
    -- Every cube through a primary cell: a second value per dimension.
    select
        arrival_year,
        base_group,
        {%- for dimension in dimensions %}
        {{ dimension }} as {{ dimension }}_1,
        {{ dimension }}_2{{ ',' if not loop.last }}
        {%- endfor %}
    from along_{{ dimensions[0] }}
    {%- for dimension in dimensions[1:] %}
    inner join along_{{ dimension }} using ({{ key }})
    {%- endfor %}
),

corners as (
    select
        cubes.*,
        {{ cube_corner() }}
    from cubes
    cross join {{ cube_corners() }}
),

cube_costs as (
    -- A cube is usable when all eight corners have citizens; its cost is the citizens it
    -- newly blanks.
    select
        corners.arrival_year,
        corners.base_group,
        {%- for dimension in dimensions %}
        {{ dimension }}_1, {{ dimension }}_2,
        {%- endfor %}
        sum(case when candidates.is_primary then 0 else candidates.base_citizens end) as cost
    from corners
    inner join candidates using ({{ key }})
    group by
        corners.arrival_year, corners.base_group
        {%- for dimension in dimensions %}, {{ dimension }}_1, {{ dimension }}_2{% endfor %}
    having count(*) = 8
),

chosen as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by arrival_year, base_group
                    {%- for dimension in dimensions %}, {{ dimension }}_1{% endfor %}
                order by cost
                    {%- for dimension in dimensions %}, {{ dimension }}_2{% endfor %}
            ) as preference
        from cube_costs
    ) as ranked
    where preference = 1
),

blanked as (
    select distinct arrival_year, base_group, {{ cube_corner() }}
    from chosen
    cross join {{ cube_corners() }}
),

decided as (
    select
        states.{{ key | replace(', ', ', states.') }},
        case
            when states.is_primary then 0
            when blanked.base_group is not null then 1
        end as suppression_round
    from states
    left join blanked using ({{ key }})
),

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
        cells.is_cohort_too_young,
        {{ min_cell() }} as min_cell,
        cells.as_of_date
    from cells
    left join decided as state using ({{ key }})
)

select * from suppressed
