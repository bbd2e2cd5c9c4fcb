//! WHIP (RFC 9725) and WHEP endpoints: `POST /whip/{room}` with an SDP offer publishes into the
//! room, `POST /whep/{room}` subscribes to it; each answers `201 Created` with the SDP answer (all
//! our candidates in it: no trickle) and a `Location` for the session, which `DELETE` ends.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::Router;

use super::{Sfu, SfuError};

/// The routes of the WHIP and WHEP endpoints and sessions.
pub fn router(sfu: Sfu) -> Router {
    Router::new()
        .route("/whip/{room}", post(whip).options(options))
        .route("/whep/{room}", post(whep).options(options))
        .route(
            "/whip/{room}/{session}",
            delete(end).patch(no_trickle).options(options),
        )
        .route(
            "/whep/{room}/{session}",
            delete(end).patch(no_trickle).options(options),
        )
        .with_state(sfu)
}

async fn whip(State(sfu): State<Sfu>, Path(room): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let offer = match check(&sfu, &headers, &body) {
        Ok(offer) => offer,
        Err(r) => return *r,
    };
    match sfu.publish(&room, offer).await {
        Ok((id, answer)) => created(&sfu, &format!("/whip/{room}/{id}"), answer),
        Err(e) => refused(&e),
    }
}

async fn whep(State(sfu): State<Sfu>, Path(room): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let offer = match check(&sfu, &headers, &body) {
        Ok(offer) => offer,
        Err(r) => return *r,
    };
    match sfu.subscribe(&room, offer).await {
        Ok((id, answer)) => created(&sfu, &format!("/whep/{room}/{id}"), answer),
        Err(e) => refused(&e),
    }
}

async fn end(
    State(sfu): State<Sfu>,
    Path((_room, session)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorized(&sfu, &headers) {
        return *r;
    }
    match sfu.end(&session).await {
        Ok(()) => cors(StatusCode::OK.into_response()),
        Err(e) => refused(&e),
    }
}

/// RFC 9725 §4.3.1: a session without trickle ICE or ICE restarts answers PATCH with 405.
async fn no_trickle() -> Response {
    let mut r = (
        StatusCode::METHOD_NOT_ALLOWED,
        "trickle ICE and ICE restarts are not supported: the answer carries every candidate",
    )
        .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE, OPTIONS"));
    cors(r)
}

/// CORS preflight, and the ICE servers for clients that ask with OPTIONS (RFC 9725 §4.4).
async fn options(State(sfu): State<Sfu>, method: Method) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if method == Method::OPTIONS {
        add_links(&sfu, &mut r);
    }
    cors(r)
}

/// The offer of a POST: authorised, `application/sdp`, UTF-8.
fn check(sfu: &Sfu, headers: &HeaderMap, body: &Bytes) -> Result<String, Box<Response>> {
    authorized(sfu, headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/sdp") {
        return Err(Box::new(cors(
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the SDP offer with Content-Type: application/sdp (RFC 9725 §4.2)",
            )
                .into_response(),
        )));
    }
    String::from_utf8(body.to_vec()).map_err(|_| {
        Box::new(cors(
            (StatusCode::BAD_REQUEST, "the SDP offer is not UTF-8 text").into_response(),
        ))
    })
}

/// RFC 9725 §4.5: a bearer token when the server has one.
fn authorized(sfu: &Sfu, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(token) = sfu.config().bearer_token.as_deref() else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(token) {
        return Ok(());
    }
    let mut r = (
        StatusCode::UNAUTHORIZED,
        "this endpoint needs Authorization: Bearer <token> (the server's --whip-token)",
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Err(Box::new(cors(r)))
}

fn created(sfu: &Sfu, location: &str, answer: String) -> Response {
    let mut r = (StatusCode::CREATED, answer).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    add_links(sfu, &mut r);
    cors(r)
}

fn refused(e: &SfuError) -> Response {
    let status = match e {
        SfuError::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
        SfuError::NoPublisher(_) | SfuError::UnknownSession(_) => StatusCode::NOT_FOUND,
        SfuError::Negotiation(_) => StatusCode::BAD_REQUEST,
    };
    cors((status, e.to_string()).into_response())
}

fn add_links(sfu: &Sfu, r: &mut Response) {
    for link in &sfu.config().ice_server_links {
        if let Ok(v) = HeaderValue::from_str(link) {
            r.headers_mut().append(header::LINK, v);
        }
    }
}

/// Browsers' WHIP/WHEP clients are often served from another origin.
fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, DELETE, PATCH, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, If-Match"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location, Link"),
    );
    r
}
