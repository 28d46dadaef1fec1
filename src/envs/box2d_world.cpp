// box2d_world: the C interface (box2d_world.h) over Box2D 2.4.1 for the Box2D envs.
// The project's only C++ file; it holds no env logic, just thin wrappers, and (at the end) a b2Timer
// that reads no clock. No exception escapes.
#include "envs/box2d_world.h"

#include <box2d/box2d.h>

#include <new>

namespace {

class ContactForwarder : public b2ContactListener {
public:
    b2w_contact_fn fn = nullptr;
    void *ctx = nullptr;

    void BeginContact(b2Contact *c) override { forward(c, true); }
    void EndContact(b2Contact *c) override { forward(c, false); }

private:
    void forward(b2Contact *c, bool begin)
    {
        if (fn)
            fn(ctx, tag_of(c->GetFixtureA()->GetBody()), tag_of(c->GetFixtureB()->GetBody()), begin);
    }
    static int tag_of(b2Body *b) { return (int)(intptr_t)b->GetUserData().pointer; }
};

// Gymnasium's lidar callback: skip fixtures outside the category (-1), otherwise record the hit and
// clip the ray to it (return the fraction), so the last report is the closest hit.
class ClosestHit : public b2RayCastCallback {
public:
    uint16 category_bits = 0;
    float fraction = 1.0f;

    float ReportFixture(b2Fixture *f, const b2Vec2 &, const b2Vec2 &, float frac) override
    {
        if ((f->GetFilterData().categoryBits & category_bits) == 0)
            return -1.0f;
        fraction = frac;
        return frac;
    }
};

// Box2D registers its contact functions lazily on the first contact, writing class statics; doing it
// once here, under C++'s thread-safe static initialisation, keeps worlds stepped in parallel race-free.
bool prime_contact_registers()
{
    b2World w(b2Vec2(0.0f, -10.0f));
    b2BodyDef bd;
    b2PolygonShape box;
    box.SetAsBox(1.0f, 1.0f);
    w.CreateBody(&bd)->CreateFixture(&box, 0.0f);
    bd.type = b2_dynamicBody;
    w.CreateBody(&bd)->CreateFixture(&box, 1.0f);
    w.Step(0.02f, 1, 1);
    return true;
}

b2Body *body(b2w_body *b) { return reinterpret_cast<b2Body *>(b); }
const b2Body *body(const b2w_body *b) { return reinterpret_cast<const b2Body *>(b); }
b2RevoluteJoint *joint(b2w_joint *j) { return reinterpret_cast<b2RevoluteJoint *>(j); }
const b2RevoluteJoint *joint(const b2w_joint *j) { return reinterpret_cast<const b2RevoluteJoint *>(j); }

b2FixtureDef fixture_def(const b2Shape *shape, const b2w_fixture_def *fd)
{
    b2FixtureDef f;
    f.shape = shape;
    f.density = fd->density;
    f.friction = fd->friction;
    f.restitution = fd->restitution;
    f.filter.categoryBits = fd->category_bits;
    f.filter.maskBits = fd->mask_bits;
    f.isSensor = fd->is_sensor;
    return f;
}

} // namespace

struct b2w_world {
    b2World *world; // lives in `storage`; rebuilt in place by b2w_world_clear
    b2Vec2 gravity;
    ContactForwarder listener;
    alignas(b2World) unsigned char storage[sizeof(b2World)];
};

extern "C" {

b2w_world *b2w_world_create(float gx, float gy, b2w_contact_fn on_contact, void *ctx)
{
    static const bool primed = prime_contact_registers();
    (void)primed;
    b2w_world *w = new (std::nothrow) b2w_world;
    if (!w)
        return nullptr;
    w->gravity = b2Vec2(gx, gy);
    w->listener.fn = on_contact;
    w->listener.ctx = ctx;
    w->world = new (w->storage) b2World(w->gravity);
    w->world->SetContactListener(&w->listener);
    return w;
}

void b2w_world_destroy(b2w_world *w)
{
    if (!w)
        return;
    w->world->~b2World();
    delete w;
}

void b2w_world_clear(b2w_world *w)
{
    w->world->~b2World();
    w->world = new (w->storage) b2World(w->gravity);
    w->world->SetContactListener(&w->listener);
}

void b2w_world_step(b2w_world *w, float dt, int velocity_iterations, int position_iterations)
{
    w->world->Step(dt, velocity_iterations, position_iterations);
}

float b2w_world_raycast(b2w_world *w, float x1, float y1, float x2, float y2, uint16_t category_bits)
{
    ClosestHit cb;
    cb.category_bits = category_bits;
    w->world->RayCast(&cb, b2Vec2(x1, y1), b2Vec2(x2, y2));
    return cb.fraction;
}

b2w_fixture_def b2w_fixture_def_default(void)
{
    const b2FixtureDef d;
    return b2w_fixture_def{d.density, d.friction, d.restitution, d.filter.categoryBits, d.filter.maskBits, d.isSensor};
}

b2w_body *b2w_body_create(b2w_world *w, bool dynamic, float x, float y, float angle, int tag)
{
    b2BodyDef bd;
    bd.type = dynamic ? b2_dynamicBody : b2_staticBody;
    bd.position.Set(x, y);
    bd.angle = angle;
    bd.userData.pointer = (uintptr_t)(intptr_t)tag;
    return reinterpret_cast<b2w_body *>(w->world->CreateBody(&bd));
}

void b2w_body_add_polygon(b2w_body *b, const float *xy, int n, const b2w_fixture_def *fd)
{
    b2Vec2 v[b2_maxPolygonVertices];
    for (int i = 0; i < n && i < b2_maxPolygonVertices; i++)
        v[i].Set(xy[2 * i], xy[2 * i + 1]);
    b2PolygonShape shape;
    shape.Set(v, n < b2_maxPolygonVertices ? n : b2_maxPolygonVertices);
    b2FixtureDef f = fixture_def(&shape, fd);
    body(b)->CreateFixture(&f);
}

void b2w_body_add_box(b2w_body *b, float half_w, float half_h, const b2w_fixture_def *fd)
{
    b2PolygonShape shape;
    shape.SetAsBox(half_w, half_h);
    b2FixtureDef f = fixture_def(&shape, fd);
    body(b)->CreateFixture(&f);
}

void b2w_body_add_edge(b2w_body *b, float x1, float y1, float x2, float y2, const b2w_fixture_def *fd)
{
    b2EdgeShape shape;
    shape.SetTwoSided(b2Vec2(x1, y1), b2Vec2(x2, y2)); // Box2D 2.3's edges are two-sided
    b2FixtureDef f = fixture_def(&shape, fd);
    body(b)->CreateFixture(&f);
}

void b2w_body_get(const b2w_body *b, b2w_body_state *out)
{
    const b2Body *p = body(b);
    const b2Vec2 &pos = p->GetPosition();
    const b2Vec2 &v = p->GetLinearVelocity();
    out->x = pos.x;
    out->y = pos.y;
    out->angle = p->GetAngle();
    out->vx = v.x;
    out->vy = v.y;
    out->omega = p->GetAngularVelocity();
}

bool b2w_body_awake(const b2w_body *b) { return body(b)->IsAwake(); }

void b2w_body_world_vector(const b2w_body *b, float lx, float ly, float out[2])
{
    const b2Vec2 v = body(b)->GetWorldVector(b2Vec2(lx, ly));
    out[0] = v.x;
    out[1] = v.y;
}

void b2w_body_apply_force_to_center(b2w_body *b, float fx, float fy)
{
    body(b)->ApplyForceToCenter(b2Vec2(fx, fy), true);
}

void b2w_body_apply_torque(b2w_body *b, float torque) { body(b)->ApplyTorque(torque, true); }

void b2w_body_apply_impulse(b2w_body *b, float ix, float iy, float px, float py)
{
    body(b)->ApplyLinearImpulse(b2Vec2(ix, iy), b2Vec2(px, py), true);
}

b2w_joint *b2w_revolute_create(b2w_world *w, const b2w_revolute_def *def)
{
    b2RevoluteJointDef jd;
    jd.bodyA = body(def->a);
    jd.bodyB = body(def->b);
    jd.localAnchorA.Set(def->anchor_a[0], def->anchor_a[1]);
    jd.localAnchorB.Set(def->anchor_b[0], def->anchor_b[1]);
    jd.referenceAngle = def->reference_angle;
    jd.enableMotor = def->enable_motor;
    jd.motorSpeed = def->motor_speed;
    jd.maxMotorTorque = def->max_motor_torque;
    jd.enableLimit = def->enable_limit;
    jd.lowerAngle = def->lower_angle;
    jd.upperAngle = def->upper_angle;
    return reinterpret_cast<b2w_joint *>(w->world->CreateJoint(&jd));
}

void b2w_joint_set_motor(b2w_joint *j, float speed, float max_torque)
{
    joint(j)->SetMotorSpeed(speed);
    joint(j)->SetMaxMotorTorque(max_torque);
}

void b2w_joint_enable_limit(b2w_joint *j, bool enable) { joint(j)->EnableLimit(enable); }

float b2w_joint_angle(const b2w_joint *j) { return joint(j)->GetJointAngle(); }

float b2w_joint_speed(const b2w_joint *j) { return joint(j)->GetJointSpeed(); }

} // extern "C"

// Box2D times its own steps for its profiling statistics (b2Profile, b2_toiTime), which nothing here
// reads: two gettimeofday() calls per timer, several timers per world step and one per
// time-of-impact query. libbox2d calls these three through its PLT, so these definitions, found
// first, take their place: timers that read no clock. Nothing else changes (the same runs bit for bit).
b2Timer::b2Timer() : m_start_sec(0), m_start_usec(0) {}
void b2Timer::Reset() {}
float b2Timer::GetMilliseconds() const { return 0.0f; }
